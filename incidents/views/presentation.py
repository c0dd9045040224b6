"""How the filters and a page of rows are shown: the form's controls, the chips,
errors, sort links and keyset pages (cursors.py). Shared by every page with the form."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import cursors
from ..filters import CHOICE_PARAMS, MAX_Q
from ..models import CHOICE_FIELDS

PAGE_SIZE = 50
COUNT_CAP = 10_000
ROW_LABELS = ("outcome", "case_type", "person_role", "verification")
TEXT_PARAMS = ("q", "date_after", "date_before", "updated_after")

ORDERINGS = (
    ("", gettext_lazy("Newest first")),  # the default, so it stays out of addresses
    ("date", gettext_lazy("Oldest first")),
    ("-people_count", gettext_lazy("Most people taken into custody")),
    ("people_count", gettext_lazy("Fewest people taken into custody")),
    ("-updated_at", gettext_lazy("Recently updated")),
    ("updated_at", gettext_lazy("Least recently updated")),
)


def filter_page(state):
    """What every page with the filter form needs: values, chips, errors, links."""
    hidden = (state.scope[0],) if state.scope else ()
    return {
        **_url_prefixes(),
        "filter": state.filterset,
        "params": state.params,
        "queries": state.queries,
        "controls": _controls(state, hidden),
        "chips": _chips(state),
        "errors": _errors(state.filterset),
        "is_filtered": state.is_filtered,
    }


def _url_prefixes():
    """Link prefixes, so that table rows render without one reverse() per link."""
    return {
        "incident_prefix": reverse("incident_list"),
        "courthouse_prefix": reverse("courthouse_list"),
        "county_prefix": reverse("county_detail", args=["00000"]).removesuffix("00000/"),
    }


def _errors(filterset):
    if filterset.is_valid():
        return []
    fields = filterset.form.fields
    return [
        (
            str(fields[name].label) if name in fields else name,
            " ".join(str(m) for m in messages),
        )
        for name, messages in filterset.form.errors.items()
    ]


def _controls(state, hidden):
    """The form's fields with their current values, in the order the template shows them."""
    fields, errors = state.filterset.form.fields, state.filterset.form.errors
    params, labels = state.params, state.labels

    def field(name, **extra):
        return {
            "name": name,
            "label": fields[name].label,
            "errors": errors.get(name, []),
            **extra,
        }

    places = [
        field(name, chosen=[(v, labels[name].get(v, v)) for v in params.getlist(name)])
        for name in ("state", "county", "courthouse")
        if name not in hidden
    ]
    return {
        "text": {name: field(name, value=params.get(name, "")[: MAX_Q + 20]) for name in TEXT_PARAMS},
        "places": places,
        "states": list(labels["state"].items()),
        "choices": [_choice_group(field(name), params.getlist(name), labels[name]) for name in CHOICE_PARAMS],
        "ordering": field(
            "ordering",
            value=params.get("ordering", "").removeprefix("-date"),
            options=ORDERINGS,
        ),
    }


def _choice_group(group, chosen, labels):
    group["options"] = [(value, label, value in chosen) for value, label in labels.items()]
    group["open"] = bool(chosen or group["errors"])  # a group in use starts unfolded
    return group


def _chips(state):
    """One removable chip per active filter value."""
    fields = state.filterset.form.fields
    chips = []
    for name in state.params:
        if name == "ordering":
            continue
        for value in state.params.getlist(name):
            label = state.labels.get(name, {}).get(value, value)
            chips.append(
                {
                    "field": fields[name].label,
                    "value": label if len(label) <= 60 else label[:59] + "…",
                    "remove": state.query(remove=(name, value)) or "?",
                }
            )
    return chips


# -- keyset pagination (cursors.py) ---------------------------------------------


def page_of(request, state):
    """One page of rows, its Previous/Next links and the (capped) number of matches."""
    keys, incidents = state.filterset.sort_keys(), state.incidents
    token = request.GET.get("cursor", "").strip()
    rows, has_prev, has_next = [], False, False
    if token and state.valid:
        try:
            cursor = cursors.decode(token, keys[0])
        except cursors.BadCursor:
            return _page_context(
                state,
                keys,
                [],
                False,
                False,
                (0, False),
                cursor_error=_("This page link is not valid or is out of date."),
            )
        if cursor.direction == "next":
            found = list(incidents.filter(cursors.beyond(keys[0], cursor))[: PAGE_SIZE + 1])
            rows, has_prev, has_next = found[:PAGE_SIZE], True, len(found) > PAGE_SIZE
        else:
            found = list(
                incidents.filter(cursors.beyond(keys[0], cursor, backwards=True)).order_by(
                    *cursors.reversed_keys(keys)
                )[: PAGE_SIZE + 1]
            )
            if len(found) > PAGE_SIZE:
                rows, has_prev, has_next = found[:PAGE_SIZE][::-1], True, True
            else:
                token = ""  # the previous page is the first one: show it whole
    if not token:
        found = list(incidents[: PAGE_SIZE + 1])
        rows, has_next = found[:PAGE_SIZE], len(found) > PAGE_SIZE
        if not has_next:
            return _page_context(state, keys, rows, False, False, (len(rows), False))
    return _page_context(state, keys, rows, has_prev, has_next, capped_count(incidents))


def labelled(incidents):
    """Choice labels for table rows, looked up once per page rather than per cell."""
    labels = {name: {k: str(v) for k, v in CHOICE_FIELDS[name].choices} for name in ROW_LABELS}
    for incident in incidents:
        for name, choices_ in labels.items():
            value = getattr(incident, name)
            setattr(incident, f"{name}_label", choices_.get(value, value))
    return incidents


def capped_count(incidents):
    """(count, more): counting stops after COUNT_CAP rows instead of scanning every match."""
    n = incidents.order_by().values("pk")[: COUNT_CAP + 1].count()
    return min(n, COUNT_CAP), n > COUNT_CAP


def _page_context(state, keys, rows, has_prev, has_next, count, cursor_error=None):
    first_page = state.query() or "?"
    return {
        "incidents": labelled(rows),
        "count": count[0],
        "count_more": count[1],
        "cursor_error": cursor_error,
        "first_page": first_page,
        "prev_page": state.query(cursor=cursors.encode("prev", keys[0], rows[0]))
        if has_prev and rows
        else None,
        "next_page": state.query(cursor=cursors.encode("next", keys[0], rows[-1]))
        if has_next and rows
        else None,
        "sort_links": _sort_links(state, keys[0]),
    }


def _sort_links(filters, current):
    """Column header links: the first click sorts descending, the next ascending."""
    links = {}
    for field in ("date", "people_count"):
        if current.lstrip("-") == field:
            state = "descending" if current.startswith("-") else "ascending"
            target = field if state == "descending" else f"-{field}"
        else:
            state, target = "none", f"-{field}"
        links[field] = {
            "url": filters.query(ordering=target),
            "aria_sort": state,
        }
    return links
