from django.shortcuts import get_object_or_404, render

from .filters import filter_incidents
from .models import Courthouse, County, Incident


def dashboard(request):
    _, incidents = filter_incidents(request)
    return render(request, "incidents/home.html", {"incidents": incidents[:25]})


def incident_list(request):
    filterset, incidents = filter_incidents(request)
    return render(request, "incidents/home.html", {"incidents": incidents[:50], "filter": filterset})


def incident_detail(request, pk):
    incident = get_object_or_404(Incident.objects.public(), pk=pk)
    return render(request, "incidents/home.html", {"incidents": [incident]})


def courthouse_list(request):
    return render(request, "incidents/home.html", {"incidents": []})


def courthouse_detail(request, slug):
    courthouse = get_object_or_404(Courthouse, slug=slug)
    _, incidents = filter_incidents(request, Incident.objects.public().filter(courthouse=courthouse))
    return render(request, "incidents/home.html", {"incidents": incidents[:50]})


def county_detail(request, fips):
    county = get_object_or_404(County, fips=fips)
    _, incidents = filter_incidents(request, Incident.objects.public().filter(county=county))
    return render(request, "incidents/home.html", {"incidents": incidents[:50]})
