"""Readable change lists from an incident's history rows (django-simple-history).

`field_changes(records, fields)` compares each history row with the one before it
and is shared by the staff history page (every field, with authors) and any public
change log (pass PUBLIC_FIELDS, and never show `record.history_user`).
"""

from .models import (
    CHOICE_FIELDS,
    PUBLIC_FIELDS,
    STAFF_ONLY_FIELDS,
    Courthouse,
    Incident,
)

# Everything a person edits or decides; bookkeeping (version, timestamps, ids) is left out.
STAFF_FIELDS = (*PUBLIC_FIELDS, "status", "retraction_reason", *STAFF_ONLY_FIELDS)


def field_changes(records, fields):
    """[(record, [(label, before, after), ...])], newest first, for records oldest first.

    The creation row lists every field with a value (before = None); a later row
    only the fields it changed. Rows that changed none of `fields` are left out.
    """
    records = list(records)
    names = _courthouse_names(records) if "courthouse" in fields else {}
    result, previous = [], None
    for record in records:
        changes = [
            (_label(name), _display(name, previous, names), _display(name, record, names))
            for name in fields
            if previous is None
            and _value(record, name) not in ("", None)
            or previous is not None
            and _value(record, name) != _value(previous, name)
        ]
        if changes:
            result.append((record, changes))
        previous = record
    return result[::-1]


def _value(record, name):
    return getattr(record, "courthouse_id" if name == "courthouse" else name)


def _label(name):
    return str(Incident._meta.get_field(name).verbose_name)


def _display(name, record, courthouse_names):
    if record is None:
        return None
    value = _value(record, name)
    if name == "courthouse":
        return courthouse_names.get(value, value)
    if name in CHOICE_FIELDS and value in CHOICE_FIELDS[name].values:
        return f"{CHOICE_FIELDS[name](value).label} ({value})"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _courthouse_names(records):
    ids = {record.courthouse_id for record in records}
    return {
        pk: f"{name} ({city})"
        for pk, name, city in Courthouse.objects.filter(pk__in=ids).values_list("pk", "name", "city")
    }
