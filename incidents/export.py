"""The CSV format shared by export and import (SPEC.md, "CSV format").

The column list is explicit: a new model field never reaches an export unless
it is added here, and staff-only fields are never among them.
"""

from .models import STAFF_ONLY_FIELDS

# (CSV column, queryset lookup)
COLUMN_SOURCES = (
    ("id", "id"),
    ("reference", "reference"),
    ("date", "date"),
    ("date_precision", "date_precision"),
    ("state", "state_id"),
    ("county", "county__name"),
    ("county_fips", "county_id"),
    ("courthouse", "courthouse__name"),
    ("courthouse_city", "courthouse__city"),
    ("case_type", "case_type"),
    ("outcome", "outcome"),
    ("people_count", "people_count"),
    ("person_role", "person_role"),
    ("location", "location"),
    ("agency", "agency"),
    ("plain_clothes", "plain_clothes"),
    ("agents_identified", "agents_identified"),
    ("force_used", "force_used"),
    ("court_staff_assisted", "court_staff_assisted"),
    ("warrant", "warrant"),
    ("verification", "verification"),
    ("source_type", "source_type"),
    ("source_url", "source_url"),
    ("summary", "summary"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
)
COLUMNS = tuple(name for name, _ in COLUMN_SOURCES)
LOOKUPS = tuple(lookup for _, lookup in COLUMN_SOURCES)
assert not set(COLUMNS) & set(STAFF_ONLY_FIELDS)

# A cell starting (after any apostrophes) with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def is_formula_like(value):
    return value.lstrip("'").startswith(FORMULA_STARTS)


def escape_formula(value):
    """`=SUM(A1)` -> `'=SUM(A1)`, `'=x` -> `''=x`; anything else unchanged."""
    return "'" + value if is_formula_like(value) else value


def unescape_formula(value):
    """The exact inverse of escape_formula, applied by import."""
    return value[1:] if value.startswith("'") and is_formula_like(value) else value
