"""Keyset pagination, shared by the list pages and the API.

A cursor holds the sort value and id of the row a page starts after (or, for a
"prev" link, before), and the next page starts strictly beyond it. Every ordering
ends with id (filters.IncidentFilterSet.sort_keys), so no row is skipped or
repeated when rows arrive between pages, and no deep OFFSET is ever scanned.

A token is base64url of the JSON list [direction, sort key, value, id]. Anything
this site did not write raises BadCursor, which callers answer with a 400.
"""

import base64
import binascii
import datetime
import json
from typing import NamedTuple

from django.db.models import Q

MAX_CHARS = 300  # a real token is about 60
DIRECTIONS = ("next", "prev")


class BadCursor(ValueError):
    pass


class Cursor(NamedTuple):
    direction: str
    value: object
    pk: int


def sort_field(sort_key):
    return sort_key.lstrip("-")


def encode(direction, sort_key, row):
    """The token for `row` (a model instance or a named values_list row)."""
    value = getattr(row, sort_field(sort_key))
    value = value.isoformat() if hasattr(value, "isoformat") else value
    raw = json.dumps([direction, sort_key, value, row.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(token, sort_key):
    """The Cursor in `token`, made for `sort_key`; BadCursor for anything else."""
    if len(token) > MAX_CHARS:
        raise BadCursor(token)
    try:
        parts = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadCursor(token) from exc
    if not isinstance(parts, list) or len(parts) != 4:
        raise BadCursor(token)
    direction, key, value, pk = parts
    if direction not in DIRECTIONS or key != sort_key or type(pk) is not int or not 0 < pk < 2**63:
        raise BadCursor(token)
    return Cursor(direction, _value(sort_field(sort_key), value), pk)


def _value(field, value):
    try:
        if field == "date":
            return datetime.date.fromisoformat(value)
        if field == "updated_at":
            moment = datetime.datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise BadCursor(value)
            return moment
    except (TypeError, ValueError) as exc:
        raise BadCursor(value) from exc
    if type(value) is not int or not 0 <= value < 2**31:
        raise BadCursor(value)
    return value


def beyond(sort_key, cursor, backwards=False):
    """Rows after the cursor in the sort order; `backwards`: the rows before it.

    `field <= value AND (field < value OR id < pk)` lets the database walk the
    (field, id) index from the cursor on, so a deep page costs what the first does.
    The plainer `field < value OR (field = value AND id < pk)` gives the index no
    leading bound, and PostgreSQL may then read it from its start or scan the table.
    """
    field, descending = sort_field(sort_key), sort_key.startswith("-")
    strict, edge = ("lt", "lte") if descending != backwards else ("gt", "gte")
    return Q(**{f"{field}__{edge}": cursor.value}) & (
        Q(**{f"{field}__{strict}": cursor.value}) | Q(**{f"pk__{strict}": cursor.pk})
    )


def reversed_keys(keys):
    return [key[1:] if key.startswith("-") else f"-{key}" for key in keys]
