"""The OpenAPI 3.1 description of every public endpoint, served at /api/schema.json.

It is built from the definitions the endpoints themselves use, so that it cannot
drift from them: the filter parameters from filters.IncidentFilterSet (names,
patterns, allowed values), an incident's fields from export.COLUMN_SOURCES and
the data dictionary (types, allowed values, explanations), stats dimensions from
stats.DIMENSIONS. /api/ is this same description shown as a page
(views/apidocs.py). tests/test_openapi.py validates it and calls every path.
"""

import django_filters
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from . import choices, dictionary, export, stats
from .filters import MAX_Q, MAX_VALUES, IncidentFilterSet, MultipleValueFilter, StrictDateFilter
from .models import Incident
from .views.api import MAX_LIMIT
from .views.changes import SINCE_MAX

JSON, CSV, TEXT = "application/json", "text/csv", "text/plain"
KIND_SCHEMAS = {
    "integer": {"type": "integer"},
    "date": {"type": "string", "format": "date"},
    "timestamp": {"type": "string", "format": "date-time"},
}


def schema(base_url):
    """The whole description; `base_url` is the site's address, for "servers"."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Courthouse ICE Arrest Tracker API",
            "version": "1",
            "description": _(
                "Public data on immigration arrests at courthouses. Every answer carries "
                "ETag and Last-Modified; send them back (If-None-Match, If-Modified-Since) "
                "to get 304 while the data is unchanged. JSON answers give the time of the "
                "data in as_of."
            ),
        },
        "servers": [{"url": base_url.rstrip("/")}],
        "paths": paths(),
        "components": {
            "parameters": {name: filter_parameter(name, spec) for name, spec in _filters()},
            "schemas": schemas(),
            "headers": _headers(),
        },
    }


# -- paths --------------------------------------------------------------------------


def paths():
    filters = [{"$ref": f"#/components/parameters/{name}"} for name, _spec in _filters()]
    return {
        "/api/incidents/": _get(
            "incidents",
            _("Public incidents, a page at a time"),
            _(
                "The rows of the CSV export as JSON, newest first unless ordered otherwise. Follow next until null."
            ),
            [*filters, _limit(), _cursor()],
            {JSON: _ref("IncidentPage")},
        ),
        "/api/stats/": _get(
            "stats",
            _("Counts of incidents and people per group"),
            _(
                "The figures behind every chart. One by gives a row per value; two (by=month&by=outcome) "
                "give a row per pair of values, with both keys."
            ),
            [*filters, _by(), _format()],
            {JSON: _ref("Stats"), CSV: {"type": "string"}},
        ),
        "/api/changes/": _get(
            "changes",
            _("Changes since a time, for mirrors"),
            _(
                "Every incident created, updated, retracted or restored since `since`, oldest first. "
                "Here as_of means that the listing is complete up to that time: read again from it."
            ),
            [*filters, _since(), _limit(), _cursor()],
            {JSON: _ref("Changes")},
        ),
        "/incidents/export.csv": _get(
            "export",
            _("Every matching incident as CSV"),
            _("The columns of the data dictionary (/data/), one row per incident."),
            [*filters, _excel()],
            {CSV: {"type": "string"}},
            error_type=TEXT,
        ),
        "/feeds/incidents.atom": _get(
            "feed",
            _("Atom feed of the latest changes"),
            _("The 50 latest new, corrected, retracted or restored incidents under the filters."),
            filters,
            {"application/atom+xml": {"type": "string"}},
            error_type=TEXT,
        ),
        "/api/courthouses.geojson": _get(
            "courthouses",
            _("Courthouses with their counts, as GeoJSON"),
            _("Courthouses with coordinates that have incidents under the filters, for QGIS and web maps."),
            filters,
            {"application/geo+json": _ref("CourthouseCollection")},
        ),
        "/courthouses/autocomplete.json": _get(
            "courthouse_autocomplete",
            _("Courthouses whose name, city or slug match"),
            _("The filter form's courthouse search: up to 20 matches."),
            [_search(_("1 to 100 characters."), True)],
            {JSON: _ref("Matches")},
            validators=False,
        ),
        "/counties/autocomplete.json": _get(
            "county_autocomplete",
            _("Counties whose name or FIPS code match"),
            _(
                "The filter form's county search, within the states given; every county of one state without q."
            ),
            [_search(_("1 to 100 characters; required unless one state is given."), False), _state_codes()],
            {JSON: _ref("Matches")},
            validators=False,
        ),
        "/api/reference-figures/": _get(
            "reference_figures",
            _("Counts others published, each beside ours"),
            _(
                "The published figures the filters cover (place, period, court type), each with our own "
                "count for the same place, period and outcomes, and both definitions."
            ),
            filters,
            {JSON: _ref("ReferenceFigures")},
        ),
        "/data/datapackage.json": _get(
            "datapackage",
            _("The export described as a Frictionless data package"),
            _("Each CSV column's type, format and allowed values, for pandas, R and frictionless."),
            [],
            {JSON: {"type": "object"}},
            errors=False,
        ),
        "/api/schema.json": _get(
            "schema",
            _("This description"),
            _("OpenAPI 3.1, generated from the filters and fields the endpoints use."),
            [],
            {JSON: {"type": "object"}},
            errors=False,
        ),
    }


def _get(name, summary, description, parameters, content, error_type=JSON, errors=True, validators=True):
    """One GET operation; `validators`: it sends ETag and Last-Modified, and may answer 304
    (not the autocompletes, asked once per keystroke, which cost one query as they are)."""
    ok = {"description": _("OK"), "content": _content(content)}
    responses = {"200": ok}
    if validators:
        ok["headers"] = _header_refs()
        responses["304"] = {"description": _("Not modified since the ETag or time sent.")}
    if errors:
        error = _ref("Error") if error_type == JSON else {"type": "string"}
        responses["400"] = {
            "description": _("A bad parameter, named."),
            "content": {error_type: {"schema": error}},
        }
    operation = {"operationId": name, "summary": summary, "description": description, "responses": responses}
    return {"get": {**operation, "parameters": parameters} if parameters else operation}


def _content(types):
    return {media: {"schema": body} for media, body in types.items()}


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _headers():
    return {
        "ETag": {"description": _("The version of this answer."), "schema": {"type": "string"}},
        "Last-Modified": {"description": _("When the data last changed."), "schema": {"type": "string"}},
    }


def _header_refs():
    return {name: {"$ref": f"#/components/headers/{name}"} for name in _headers()}


# -- parameters -------------------------------------------------------------------


def _filters():
    return IncidentFilterSet.base_filters.items()


def filter_parameter(name, spec):
    """One filter of IncidentFilterSet as a query parameter; repeated ones as arrays."""
    value = _filter_value(name, spec)
    parameter = {"name": name, "in": "query", "description": _described(spec), "schema": value}
    if value["type"] == "array":
        parameter.update(style="form", explode=True)
    return parameter


def _described(spec):
    """The filter's label, or else the label of the field it filters."""
    return str(capfirst(spec.label or Incident._meta.get_field(spec.field_name).verbose_name))


def _filter_value(name, spec):
    if isinstance(spec, StrictDateFilter):
        return {"type": "string", "format": "date"}
    if isinstance(spec, MultipleValueFilter):
        return _array({"type": "string", "pattern": f"^{spec.extra['pattern']}$"})
    if isinstance(spec, django_filters.OrderingFilter):
        ordering = IncidentFilterSet().filters[name].field.choices
        return {"type": "string", "enum": [value for value, _label in ordering if value]}
    if isinstance(spec, django_filters.MultipleChoiceFilter):
        return _array({"type": "string", "enum": [value for value, _label in spec.extra["choices"]]})
    return {"type": "string", "maxLength": MAX_Q}


def _array(items, most=MAX_VALUES):
    return {"type": "array", "items": items, "maxItems": most}


def _query(name, description, value, required=False):
    return {"name": name, "in": "query", "required": required, "description": description, "schema": value}


def _limit():
    value = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100}
    return _query("limit", _("Rows per page."), value)


def _cursor():
    return _query("cursor", _("Where the next page starts: take it from next."), {"type": "string"})


def _since():
    value = {"type": "string", "format": "date-time", "maxLength": SINCE_MAX}
    return _query("since", _("ISO 8601 date or time; without a zone, UTC."), value)


def _by():
    value = {**_array({"type": "string", "enum": list(stats.DIMENSIONS)}, most=2), "minItems": 1}
    parameter = _query("by", _("One dimension, or two for a cross-tab."), value, required=True)
    return {**parameter, "style": "form", "explode": True}


def _format():
    return _query("format", _("json, or csv for a file."), {"type": "string", "enum": ["json", "csv"]})


def _excel():
    value = {"type": "string", "enum": ["1", "0"]}
    return _query("excel", _("1 adds a byte-order mark, for Excel."), value)


def _search(description, required):
    return _query("q", description, {"type": "string", "minLength": 1, "maxLength": 100}, required)


def _state_codes():
    value = _array({"type": "string", "pattern": "^[A-Za-z]{2}$"})
    return {**_query("state", _("Two-letter state codes."), value), "style": "form", "explode": True}


# -- response bodies --------------------------------------------------------------


def schemas():
    return {
        "Incident": incident_schema(),
        "Source": _source(),
        "IncidentPage": _object(
            count={"type": "integer", "minimum": 0},
            count_capped={"type": "boolean"},
            as_of=KIND_SCHEMAS["timestamp"],
            results={"type": "array", "items": _ref("Incident")},
            next=_next(),
        ),
        "Stats": _object(
            by={"type": "array", "items": {"enum": list(stats.DIMENSIONS)}, "minItems": 1, "maxItems": 2},
            as_of=KIND_SCHEMAS["timestamp"],
            results={"type": "array", "items": {"oneOf": [_stats_row(), _crosstab_row()]}},
        ),
        "Changes": _object(
            as_of=KIND_SCHEMAS["timestamp"],
            results={"type": "array", "items": _change()},
            next=_next(),
        ),
        "ReferenceFigures": _object(
            as_of=KIND_SCHEMAS["timestamp"], results={"type": "array", "items": _reference_figure()}
        ),
        "CourthouseCollection": _courthouses(),
        "Matches": _object(results={"type": "array", "items": _object(value=_text(), label=_text())}),
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": _text(),
                "parameters": {"type": "object", "additionalProperties": {"type": "array", "items": _text()}},
            },
        },
    }


def _reference_figure():
    text, day, nullable = _text(), {"type": "string", "format": "date"}, {"type": ["string", "null"]}
    return _object(
        publisher=text,
        title=text,
        url=text,
        published=day,
        area=text,
        state=nullable,
        county_fips={"type": "array", "items": text},
        period_start=day,
        period_end=day,
        court_type=text,
        counted=text,
        value={"type": "integer", "minimum": 0},
        definition=text,
        ours={"type": "object"},
    )


def _object(**properties):
    return {"type": "object", "required": list(properties), "properties": properties}


def _text():
    return {"type": "string"}


def _next():
    return {"type": ["string", "null"], "description": _("The next page's address; null on the last page.")}


def incident_schema():
    """An incident as the API gives it: the export's columns, typed and explained as /data/ explains them,
    and its sources (views/api.py, _with_sources), which the CSV leaves out."""
    incident = _object(**{column["name"]: _column(column, kind) for column, kind in _columns()})
    incident["required"].append("sources")
    incident["properties"]["sources"] = {
        "type": "array",
        "items": _ref("Source"),
        "minItems": 1,
        "title": _("Sources"),
        "description": _(
            "Every source of the incident: first its primary source (the same as source_type and "
            "source_url, with no date and no note), then any others, oldest first. The CSV export "
            "has only the primary source."
        ),
    }
    return incident


def _source():
    return _object(
        source_type={"type": "string", "enum": list(choices.SourceType.values)},
        url={"type": "string", "description": _("The source's address; empty when there is none.")},
        date={
            "type": ["string", "null"],
            "format": "date",
            "description": _("When the source was published; null when not given."),
        },
        note={"type": "string", "description": _("A short public note on the source; may be empty.")},
    )


def _columns():
    return zip(dictionary.columns(), export.column_kinds())


def _column(column, kind):
    value = dict(KIND_SCHEMAS.get(kind, {"type": "string"}))
    if column["values"]:
        value["enum"] = [choice["value"] for choice in column["values"]]
    return {**value, "title": str(column["title"]), "description": str(column["help"] or column["kind"])}


def _stats_row():
    return _object(key=_text(), label=_text(), incidents=_count(), people=_count())


def _crosstab_row():
    row = _object(incidents=_count(), people=_count())
    return {**row, "minProperties": 6, "additionalProperties": _text()}


def _count():
    return {"type": "integer", "minimum": 0}


def _change():
    return _object(
        id={"type": "integer"},
        reference=_text(),
        change={"type": "string", "enum": list(choices.Change.values)},
        at=KIND_SCHEMAS["timestamp"],
    )


def _courthouses():
    point = _object(
        type={"const": "Point"},
        coordinates={"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
    )
    properties = _object(
        slug=_text(),
        name=_text(),
        city=_text(),
        county_fips={"type": "string", "pattern": "^[0-9]{5}$"},
        state=_text(),
        incidents=_count(),
        people=_count(),
        url={"type": "string", "format": "uri"},
    )
    feature = _object(type={"const": "Feature"}, geometry=point, properties=properties)
    return _object(
        type={"const": "FeatureCollection"},
        as_of=KIND_SCHEMAS["timestamp"],
        features={"type": "array", "items": feature},
    )
