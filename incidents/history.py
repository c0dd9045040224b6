"""Readable change lists from an incident's history rows (django-simple-history).

`field_changes(records, fields)` compares each history row with the one before it.
The staff history page passes every field and shows each row's author; the public
change log passes PUBLIC_FIELDS and never reads `record.history_user`.
"""

from typing import NamedTuple

from .models import PUBLIC_FIELDS, STAFF_ONLY_FIELDS, Courthouse, Incident, display_text

# Everything a person edits or decides; bookkeeping (version, timestamps, ids) is left out.
STAFF_FIELDS = (*PUBLIC_FIELDS, "status", "retraction_reason", "retraction_public_reason", *STAFF_ONLY_FIELDS)


class Change(NamedTuple):
    label: str
    before: str | None  # None on the creation row: there was nothing before
    after: str


class Entry(NamedTuple):
    record: object  # the history row: history_date, history_type, history_user
    created: bool
    changes: list


def field_changes(records, fields, *, initial_values=True, reasons=False):
    """[Entry], newest first, for history `records` oldest first.

    The creation row lists every field with a value (only when `initial_values`);
    a later row only the fields it changed. Rows that changed none of `fields`
    are left out, unless `reasons` and the row says why it was written (a merge).
    """
    entries, previous = [], None
    for record in records:
        raw = [(name, _before(previous, name), _value(record, name)) for name in fields]
        if previous is None:
            raw = [
                (name, None, after) for name, _, after in raw if initial_values and after not in ("", None)
            ]
        else:
            raw = [(name, before, after) for name, before, after in raw if before != after]
        if raw or previous is None or (reasons and record.history_change_reason):
            entries.append((record, previous is None, raw))
        previous = record
    return _readable(entries)[::-1]


def _value(record, name):
    return getattr(record, "courthouse_id" if name == "courthouse" else name)


def _before(previous, name):
    return None if previous is None else _value(previous, name)


def _readable(entries):
    """The entries with labels and display text; courthouse names in one query, if any changed."""
    ids = {v for _, _, raw in entries for name, *values in raw if name == "courthouse" for v in values}
    names = dict(Courthouse.objects.filter(pk__in=ids).values_list("pk", "name")) if ids - {None} else {}
    return [
        Entry(record, created, [_change(name, before, after, names) for name, before, after in raw])
        for record, created, raw in entries
    ]


def _change(name, before, after, names):
    label = str(Incident._meta.get_field(name).verbose_name)
    before = None if before is None else display_text(name, before, courthouse_names=names)
    return Change(label, before, display_text(name, after, courthouse_names=names))
