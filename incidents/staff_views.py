from django.http import HttpResponse


def incident_create(request, pk=None):
    return HttpResponse("Not built yet.", status=501, content_type="text/plain")


incident_edit = incident_import = incident_create
