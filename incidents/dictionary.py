"""The data dictionary and methodology of /data/, generated from the model's own definitions.

Columns come from export.COLUMNS, their names, types and explanations from the model
fields they are read from, allowed values from the fields' choices. What is written by
hand here is only what no definition holds (what a verified incident means, say), keyed
by the choice itself, and tests/test_data_dictionary.py fails when a new value has none.
"""

from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from . import choices, export, stats
from .filters import IncidentFilterSet
from .models import CoverageChange

KIND_LABELS = {
    "integer": _("whole number"),
    "date": _("date (YYYY-MM-DD)"),
    "timestamp": _("timestamp in UTC (YYYY-MM-DDTHH:MM:SSZ)"),
    "choice": _("one of the values listed"),
    "code": _("code"),
    "text": _("text"),
    "url": _("URL, or empty"),
}

# What the model's fields do not say about a column.
NOTES = {
    "id": _("Our number for the incident; its page is /incidents/<id>/. Stable, never reused."),
    "reference": _("Unique. Import uses it to update a row instead of adding it twice."),
    "date": _("The day the incident happened; see date_precision."),
    "courthouse": _(
        "With courthouse_city and state, identifies the courthouse. Immigration courts are courthouses too."
    ),
    "state": _("The state of the courthouse's county."),
    "county": _("The county of the courthouse."),
    "county_fips": _("The county of the courthouse, as a 5-digit Census FIPS code."),
    "court_type": _(
        "The import reads it only for a courthouse it creates. A file without this column "
        "(every export made before it existed) still imports; a courthouse it creates is then an "
        'immigration court when its name contains "Immigration Court", and a state court otherwise.'
    ),
    "people_count": _("Any number when the outcome is unknown."),
    "source_url": _("Empty when the source is not public."),
    "created_at": _("When the row was entered here, not when the incident happened."),
    "updated_at": _(
        "When the row last changed (a correction, say). Use updated_after= to fetch only changes."
    ),
}

OUTCOME_MEANINGS = {
    choices.Outcome.ARRESTED: _("Agents took at least one person into custody."),
    choices.Outcome.ATTEMPTED: _("Agents tried to arrest someone and did not complete the arrest."),
    choices.Outcome.OBSERVED: _("Agents were seen at the courthouse; no arrest was attempted."),
    choices.Outcome.UNKNOWN: _("The source does not say how the action ended."),
}

# Also the note on each incident's public page.
VERIFICATION_MEANINGS = {
    choices.Verification.VERIFIED: _(
        "The tracker confirmed this report against a court record, an official document, "
        "or a second, independent source (such as an attorney)."
    ),
    choices.Verification.UNVERIFIED: _(
        "Reported by the source shown and not yet confirmed by a second source or a record. "
        "It may be corrected as more is learned."
    ),
    choices.Verification.DISPUTED: _(
        "Another source, a record or the agency involved contradicts the report; "
        "it stays listed, flagged, while it is checked."
    ),
}

DATE_PRECISION_MEANINGS = {
    choices.DatePrecision.DAY: _("The exact day is known."),
    choices.DatePrecision.MONTH: _(
        "Only the month is known; the date is the first of that month. A date filter "
        "matches the incident when its range overlaps that month."
    ),
}


COURT_TYPE_MEANINGS = {
    choices.CourtType.STATE: _(
        "State, county, city and town courts: criminal, family, civil, housing, traffic."
    ),
    choices.CourtType.IMMIGRATION: _(
        "Immigration courts of the Executive Office for Immigration Review (EOIR), a part of the "
        "Department of Justice; enforcement there follows immigration hearings."
    ),
    choices.CourtType.FEDERAL: _("United States district, bankruptcy and magistrate courts."),
}


def coverage():
    """Each court type with the date from which the tracker records it (None: not recorded)."""
    starts = {}
    for change in CoverageChange.objects.order_by("start"):
        starts.setdefault(change.court_type, change)
    return [
        {"value": value, "label": label, "meaning": COURT_TYPE_MEANINGS[value], "change": starts.get(value)}
        for value, label in choices.CourtType.choices
    ]


def columns():
    """One entry per export column, in the file's order."""
    return [
        _column(name, field, kind)
        for (name, field), kind in zip(export.column_fields().items(), export.column_kinds())
    ]


def _column(name, field, kind):
    lookup = dict(export.COLUMN_SOURCES)[name]
    if field.is_relation:
        target = field.target_field
        title = _("%(what)s of the %(model)s") % {
            "what": target.verbose_name,
            "model": field.related_model._meta.verbose_name,
        }
    elif "__" in lookup:
        title = _("%(what)s of the %(model)s") % {
            "what": field.verbose_name,
            "model": field.model._meta.verbose_name,
        }
    else:
        title = field.verbose_name
    return {
        "name": name,
        "title": capfirst(title),
        "kind": KIND_LABELS[kind],
        "help": " ".join(str(text) for text in (field.help_text, NOTES.get(name, "")) if text),
        "values": [{"value": value, "label": label} for value, label in field.choices or []],
    }


def meanings(klass, texts):
    return [{"value": value, "label": label, "meaning": texts[value]} for value, label in klass.choices]


def context(request):
    export_url = request.build_absolute_uri(reverse("export_csv"))
    return {
        "columns": columns(),
        "outcomes": meanings(choices.Outcome, OUTCOME_MEANINGS),
        "verifications": meanings(choices.Verification, VERIFICATION_MEANINGS),
        "precisions": meanings(choices.DatePrecision, DATE_PRECISION_MEANINGS),
        "court_types": coverage(),
        "sources": [{"value": value, "label": label} for value, label in choices.SourceType.choices],
        "filters": [{"name": name, "label": f.label} for name, f in IncidentFilterSet().filters.items()],
        "dimensions": list(stats.DIMENSIONS),
        "formula_starts": [repr(c)[1:-1] for c in export.FORMULA_STARTS],
        "export_url": export_url,
        "api_url": request.build_absolute_uri(reverse("api_docs")),
    }
