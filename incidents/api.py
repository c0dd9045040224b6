from django.http import HttpResponse


def export_csv(request):
    return HttpResponse("Not built yet.", status=501, content_type="text/plain")


api_incidents = api_stats = data_dictionary = export_csv
