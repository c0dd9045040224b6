"""Courthouses as GeoJSON points with their counts under the filters, for QGIS, Datawrapper and web maps."""

from django.http import JsonResponse
from django.urls import reverse

from ..filters import error_message, filter_incidents
from ..http import as_of, public_data
from ..models import Courthouse
from ..stats import stats_for
from .api import _json_error

PLACE_FIELDS = ("slug", "name", "city", "county_id", "county__state_id", "latitude", "longitude")


@public_data(cors=True)
def courthouses_geojson(request):
    """A FeatureCollection of the courthouses with coordinates that have incidents under the filters.

    Counts come from the same cached GROUP BY as the charts (stats.py); the
    places from one more query, whatever the number of courthouses.
    """
    state = filter_incidents(request)
    if not state.valid:
        return _json_error(error_message(state.filterset), state.filterset.errors)
    counts = {row["key"]: row for row in stats_for(state, "courthouse")}
    places = Courthouse.objects.filter(latitude__isnull=False, longitude__isnull=False, slug__in=counts)
    features = [_feature(request, place, counts[place["slug"]]) for place in places.values(*PLACE_FIELDS)]
    body = {"type": "FeatureCollection", "as_of": as_of(request).isoformat(), "features": features}
    return JsonResponse(body, content_type="application/geo+json")


def _feature(request, place, counts):
    return {
        "type": "Feature",
        # GeoJSON (RFC 7946) puts longitude first.
        "geometry": {"type": "Point", "coordinates": [float(place["longitude"]), float(place["latitude"])]},
        "properties": {
            "slug": place["slug"],
            "name": place["name"],
            "city": place["city"],
            "county_fips": place["county_id"],
            "state": place["county__state_id"],
            "incidents": counts["incidents"],
            "people": counts["people"],
            "url": request.build_absolute_uri(reverse("courthouse_detail", args=[place["slug"]])),
        },
    }
