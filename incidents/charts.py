"""Aggregates -> Plotly figures, each with the table that carries the same numbers.

Every number comes from stats.stats_for()/aggregate(), the function behind
/api/stats/, so a chart, its table and its "download data" link cannot disagree.
Figures are built here with plotly's graph_objects (which validates every
property name) and reach the page as JSON; static/js/charts.js only draws them.
views/public.py caches the rendered charts per filters, scope, day and data version:
building and rendering them is cheap, but not free on every request.
"""

import datetime

import plotly.graph_objects as go
from django.db.models import Q
from django.urls import reverse
from django.utils import dates, formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import choices, summary
from .http import as_of, as_of_text
from .models import County, Courthouse, CoverageChange, PolicyEvent, State
from .stats import add_month, aggregate, split_counts, stats_for

SITE = gettext_lazy("Courthouse ICE Arrest Tracker")
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
INK, MUTED, ACCENT, NONE_GREY = "#1a1a1a", "#555555", "#0b5394", "#e1e1e1"
COVERAGE_COLOR = "#7b3294"  # coverage markers: apart from policy events' ink and the outcomes
# Colour-blind-safe, each distinct from the grey of "no incidents".
OUTCOME_COLORS = {
    choices.Outcome.ARRESTED: "#b2182b",
    choices.Outcome.ATTEMPTED: "#ef8a62",
    choices.Outcome.OBSERVED: "#2166ac",
    choices.Outcome.UNKNOWN: "#8c8c8c",
}
MAP_SCALE = [[0, "#fdd49e"], [0.35, "#f16913"], [1, "#67000d"]]
WHOLE_TICKS_MAX = 6  # incidents: up to this many, an axis ticks every one
POINT_MAX = 22  # px across, the dot of the courthouse with the most incidents
# Island groups that Albers USA leaves out, each in a small map of its own, in a strip
# under the main map (so that none can fall on a state at any width): name, label, state
# FIPS codes and place (x, paper fractions). charts.js adds a square for each island
# county with incidents, as most are too small to see at a phone's width. No base layer:
# the county shapes are the map (Plotly still loads its world file, as for any non-US scope).
INSETS = (
    ("geo2", "GU · MP", ("66", "69"), [0, 0.22]),
    ("geo3", "AS", ("60",), [0.27, 0.55]),
    ("geo4", "PR · VI", ("72", "78"), [0.6, 1]),
)
INSET_STRIP = [0.07, 0.22]  # the insets' height, paper fractions; their labels under it
INSET_GEO = {
    "projection": {"type": "mercator"},
    "fitbounds": "locations",
    **{
        f"show{layer}": False
        for layer in ("land", "lakes", "coastlines", "countries", "ocean", "rivers", "subunits")
    },
    "showframe": True,
    "framecolor": "#bbbbbb",
    "bgcolor": "#ffffff",
}
TOP_N = 15
TABLE_MAX = 100
SOURCE_MAX = 160  # characters of the filter list printed on images
LATEST_N = 10
LABEL_MAX = 26  # characters of a bar's name on its axis
# Event markers: name, symbol, colour and line style of each kind of event.
EVENT_KINDS = {
    "policy": (gettext_lazy("Policy events"), "circle", INK, "dot"),
    "coverage": (gettext_lazy("Coverage changes"), "square", COVERAGE_COLOR, "dash"),
}
# White stripes over the bar's own colour: the month so far.
HATCH = {"fillmode": "overlay", "fgcolor": "#ffffff", "fgopacity": 0.85, "size": 7, "solidity": 0.35}
EVENT_GAP = 0.07  # share of the time axis between two markers on one row: 24 px on a phone
EVENT_ROW_HEIGHT = 0.09  # share of the plot height per row of event markers
PLACE_BREAKDOWNS = (
    ("outcome", gettext_lazy("Outcome")),
    ("case_type", gettext_lazy("Case type")),
    ("person_role", gettext_lazy("Person's role in court")),
)
BREAKDOWNS = (
    ("court_type", gettext_lazy("Court type")),
    ("case_type", gettext_lazy("Case type")),
    ("person_role", gettext_lazy("Person's role in court")),
    ("location", gettext_lazy("Location")),
    ("warrant", gettext_lazy("Warrant shown")),
)


def _number(n):
    """1,502 in English, 1.502 in Spanish."""
    return formats.number_format(n, force_grouping=True)


def _plain(text):
    """Text for a Plotly label: Plotly reads a few HTML tags in labels, so none may come from data."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def source_line(state):
    """The line under every chart, also printed in its PNG: the site, the data's as-of time, the filters."""
    pairs = [(n, v) for n, values in state.params.lists() if n != "ordering" for v in values]
    pairs = ([state.scope] if state.scope else []) + sorted(pairs)
    # The filters as they are written in the address: the same in every language.
    described = ", ".join(f"{name}={value}" for name, value in pairs) or _("none")
    if len(described) > SOURCE_MAX:
        described = described[: SOURCE_MAX - 1] + "…"
    return _("Source: %(site)s, data as of %(as_of)s, filters: %(filters)s") % {
        "site": SITE,
        "as_of": as_of_text(as_of()),
        "filters": described,
    }


def _layout(title, source, **extra):
    """Common layout; the title and the source line travel with the PNG download.

    On screen the page shows both as HTML, which wraps at any width: charts.js
    hides the title and shows the source annotation only in the PNG, below the
    space the axes took.
    """
    layout = {
        "title": {"text": title, "x": 0, "xanchor": "left", "pad": {"l": 12}, "font": {"size": 16}},
        "font": {"family": FONT, "size": 13, "color": INK},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 10, "r": 20, "t": 50, "b": 10},
        "showlegend": False,
        "annotations": [
            {
                "name": "source",
                "visible": False,
                "text": _plain(source),
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": 0,
                "xanchor": "left",
                "align": "left",
                "yanchor": "top",
                "font": {"size": 11, "color": MUTED},
            }
        ],
    }
    layout.update(extra)
    return layout


def _figure(traces, layout):
    # No template: plotly's default one adds about 7 KB of JSON to every chart,
    # and our layout sets what we use of it.
    figure = go.Figure(data=traces, layout={**layout, "template": "none"}).to_plotly_json()
    locale = plotly_locale()
    if locale:
        figure["locale"] = locale  # charts.js passes it to Plotly's config
    return figure


def plotly_locale():
    """Month and day names and number separators of the active language, as Plotly's
    config.locales wants them ("nov 2026", "1.502"); None in English, Plotly's own."""
    code = translation.get_language() or "en"
    if code == "en":
        return None
    months = [str(dates.MONTHS[n]).lower() for n in range(1, 13)]
    days = [str(dates.WEEKDAYS[n]).lower() for n in (6, 0, 1, 2, 3, 4, 5)]  # Plotly starts on Sunday
    return {
        "name": code,
        "format": {
            "days": days,
            "shortDays": [day[:3] for day in days],
            "months": months,
            "shortMonths": [str(dates.MONTHS_3[n]) for n in range(1, 13)],
            "periods": ["a. m.", "p. m."],
            "dateTime": "%a %e %b %Y %X",
            "date": "%d/%m/%Y",
            "time": "%H:%M:%S",
            "decimal": formats.get_format("DECIMAL_SEPARATOR"),
            "thousands": formats.get_format("THOUSAND_SEPARATOR"),
            "grouping": [3],
            "currency": ["$", ""],
            "year": "%Y",
            "month": "%b %Y",
            "dayMonth": "%-d %b",
            "dayMonthYear": "%-d %b %Y",
        },
    }


def _chart(chart_id, title, by, figure, head, rows, **extra):
    return dict(
        id=chart_id,
        json_id=f"{chart_id}-data",
        title=title,
        by=by,
        figure=figure,
        head=head,
        rows=rows,
        **extra,
    )


def _row(label, *values, url=None):
    """One table row: a label (a link when `url`) and its numbers."""
    return {"label": label, "url": url, "values": values}


# -- monthly chart, stacked by outcome -----------------------------------------


def _month_day(key):
    """The first day of a stats month key ("2024-05"; "0024-05" for a mistyped stored date)."""
    year, month = key.split("-")
    return datetime.date(int(year), int(month), 1)


def monthly_series(state):
    """(total per month, [(outcome, per month)]) over the same zero-filled months.

    Each outcome's series is aggregate() over the filtered rows with that outcome:
    what /api/stats/?by=month&outcome=X answers for these filters, drawn over the
    months of the total so that every series has every month.
    """
    months = stats_for(state, "month")
    if not months:
        return [], []
    first, last = _month_day(months[0]["key"]), _month_day(months[-1]["key"])
    present = {row["key"] for row in stats_for(state, "outcome") if row["incidents"]}
    outcomes = [outcome for outcome in choices.Outcome.values if outcome in present]
    counted = {outcome: summary.counts(state, "month", outcome) for outcome in outcomes}
    if None in counted.values():  # not in the summary (a place's page): one GROUP BY for all
        counted = split_counts(state.incidents, "month", "outcome", outcomes)
    series = [
        (outcome, aggregate(state.incidents.filter(outcome=outcome), "month", first, last, counted[outcome]))
        for outcome in outcomes
    ]
    return months, series


def chart_events(state, first, last):
    """The policy events and coverage changes a monthly chart from `first` to `last` marks.

    [{"date", "kind": "policy"|"coverage", "label"}], by date. A state's policy event
    is drawn only where the chart's states include it (federal ones everywhere, and
    with no state filter every one); a coverage change only for the court types shown.
    """
    data = state.filterset.form.cleaned_data
    states, court_types = _scope_limits(state.scope)
    end = add_month(last)
    events = _policy_events(first, end, states or data.get("state") or []) + _coverage_changes(
        first, end, court_types or data.get("court_type") or []
    )
    return sorted(events, key=lambda event: event["date"])


def _scope_limits(scope):
    """([state], [court type]) of a county or courthouse page; empty lists for any."""
    if scope is None:
        return [], []
    kind, key = scope
    if kind == "county":
        return [County.objects.values_list("state_id", flat=True).get(fips=key)], []
    state, court_type = Courthouse.objects.values_list("county__state_id", "court_type").get(slug=key)
    return [state], [court_type]


def _policy_events(first, end, states):
    events = PolicyEvent.objects.filter(date__gte=first, date__lt=end).select_related("state")
    if states:
        events = events.filter(Q(state__isnull=True) | Q(state__in=states))
    return [
        {"date": event.date, "kind": "policy", "label": f"{event.jurisdiction}: {event.title}"}
        for event in events
    ]


def _coverage_changes(first, end, court_types):
    changes = CoverageChange.objects.filter(start__gte=first, start__lt=end)
    if court_types:
        changes = changes.filter(court_type__in=court_types)
    return [
        {
            "date": change.start,
            "kind": "coverage",
            "label": _("Recording begins: %(type)s") % {"type": change.get_court_type_display()}
            + (f". {change.note}" if change.note else ""),
        }
        for change in changes
    ]


def _event_rows(events, first, last):
    """Events numbered in date order, each on the lowest row of the marker strip where its
    numbered marker keeps a clear gap to the one before it on that row, at any width."""
    span = max((last - first).days, 31)
    gap = datetime.timedelta(days=span * EVENT_GAP)
    row_ends, placed = [], []
    for number, event in enumerate(sorted(events, key=lambda e: e["date"]), start=1):
        row = next((i for i, end in enumerate(row_ends) if event["date"] - end > gap), len(row_ends))
        row_ends[row : row + 1] = [event["date"]]
        kind = event.get("kind", "policy")
        placed.append({**event, "number": number, "row": row, "kind": kind, "text": event["label"]})
    return placed


def _event_traces(placed):
    """One numbered-marker trace per kind of event, on the strip above the bars (axis y2)."""
    traces = []
    for kind, (name, symbol, color, _dash) in EVENT_KINDS.items():
        mine = [e for e in placed if e["kind"] == kind]
        if mine:
            traces.append(
                go.Scatter(
                    name=str(name),
                    mode="markers+text",
                    x=[e["date"].isoformat() for e in mine],
                    y=[e["row"] for e in mine],
                    yaxis="y2",
                    text=[str(e["number"]) for e in mine],
                    textfont={"color": "#ffffff", "size": 11},
                    marker={"symbol": symbol, "size": 19, "color": color},
                    hovertext=[_plain(f"{e['number']}. {e['date']:%Y-%m-%d} · {e['text']}") for e in mine],
                    hoverinfo="text",
                    cliponaxis=False,
                )
            )
    return traces


def _event_lines(placed):
    return [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": e["date"].isoformat(),
            "x1": e["date"].isoformat(),
            "y0": 0,
            "y1": 1,
            "layer": "below",
            "line": {"color": EVENT_KINDS[e["kind"]][2], "width": 1, "dash": EVENT_KINDS[e["kind"]][3]},
        }
        for e in placed
    ]


def _is_partial(key, today):
    """The month still under way: its bar and its table row say "so far"."""
    return today is not None and key == f"{today:%Y-%m}"


def _outcome_bar(outcome, rows, x, partial):
    label = str(choices.Outcome(outcome).label)
    shapes = ["/" if p else "" for p in partial]
    return go.Bar(
        name=label,
        x=x,
        y=[r["incidents"] for r in rows],
        marker={
            "color": OUTCOME_COLORS[outcome],
            "pattern": {**HATCH, "shape": shapes},
        },
        xperiod="M1",
        xperiodalignment="middle",
        customdata=[_(" (so far)") if p else "" for p in partial],
        hovertemplate="%{x|%b %Y}%{customdata}: %{y:,} " + label.lower() + "<extra></extra>",
    )


def _partial_key(month):
    """A legend entry that explains the hatching of the month under way (a bar of 0)."""
    return go.Bar(
        name=_("Month so far (hatched)"),
        x=[month],
        y=[0],
        xperiod="M1",
        xperiodalignment="middle",
        marker={"color": MUTED, "pattern": {**HATCH, "shape": "/"}},
        hoverinfo="skip",
    )


def _whole_ticks(top):
    """A tick per incident on a short axis: Plotly would otherwise count in halves."""
    return {"dtick": 1} if top <= WHOLE_TICKS_MAX else {}


def _month_axes(top, rows):
    """The bars' axis, and above it a strip for numbered event markers when there are any."""
    strip = min(EVENT_ROW_HEIGHT * rows, 0.3) if rows else 0
    axes = {
        # Years alone when the ticks are a year or more apart, so that the labels fit
        # a phone's width; months only when there is room for them.
        "xaxis": {
            "type": "date",
            "tickformatstops": [
                {"dtickrange": [None, "M12"], "value": "%b %Y"},
                {"dtickrange": ["M12", None], "value": "%Y"},
            ],
            "tickangle": 0,
            # Short tick marks hold the dates below the y axis's "0": when the first
            # bar's month is a tick, its date reaches left under that label.
            "ticks": "outside",
            "ticklen": 8,
            "tickcolor": "#cccccc",
            "showgrid": False,
            "automargin": True,
        },
        "yaxis": {
            "title": {"text": _("Incidents"), "standoff": 8},
            "rangemode": "tozero",
            "range": [0, top * 1.08],
            **_whole_ticks(top),
            "gridcolor": "#eeeeee",
            "automargin": True,
            "domain": [0, 1 - strip],
        },
    }
    if rows:
        axes["yaxis2"] = {"domain": [1 - strip + 0.02, 1], "range": [-0.6, rows - 0.4], "visible": False}
    return axes


def monthly_chart(months, series, events, source, chart_id="chart-month", title=None, today=None):
    """Bars stacked by outcome; events as numbered markers listed under the chart.

    A label written on the chart collides with the axis labels at some width; a
    numbered marker on its own strip cannot, and the list holds the full text.
    """
    title = title or _("Incidents per month, by outcome")
    x = [f"{row['key']}-01" for row in months]
    partial = [_is_partial(row["key"], today) for row in months]
    traces = [_outcome_bar(outcome, rows, x, partial) for outcome, rows in series]
    if any(partial):
        traces.append(_partial_key(x[-1]))
    placed = (
        _event_rows(events, _month_day(months[0]["key"]), _month_day(months[-1]["key"])) if months else []
    )
    traces += _event_traces(placed)
    top = max((r["incidents"] for r in months), default=0) or 1
    layout = _layout(
        title,
        source,
        barmode="stack",
        bargap=0.1,
        showlegend=True,
        height=440,
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "traceorder": "normal"},
        shapes=_event_lines(placed),
        **_month_axes(top, 1 + max((e["row"] for e in placed), default=-1)),
    )
    layout["margin"]["t"] = 80
    head = [
        _("Month"),
        *[str(choices.Outcome(o).label) for o, _rows in series],
        _("Total incidents"),
        _("People"),
    ]
    rows = [
        _row(
            row["label"] + (_(" (so far)") if partial[i] else ""),
            *[s[i]["incidents"] for _o, s in series],
            row["incidents"],
            row["people"],
        )
        for i, row in enumerate(months)
    ]
    return _chart(chart_id, title, "month", _figure(traces, layout), head, rows, source=source, events=placed)


# -- map -------------------------------------------------------------------------


def _inset_label(geo, label, x):
    """Names an inset; charts.js drops it with the inset when the filters leave its islands out."""
    return {
        "name": f"inset-label-{geo}",
        "text": label,
        "showarrow": False,
        "xref": "paper",
        "yref": "paper",
        "x": sum(x) / 2,
        "y": INSET_STRIP[0],
        "yanchor": "top",
        "font": {"size": 11, "color": MUTED},
    }


def _insets():
    """The insets' layouts ({geo2: ..}) and labels."""
    geos = {geo: {**INSET_GEO, "domain": {"x": x, "y": INSET_STRIP}} for geo, _label, _codes, x in INSETS}
    return geos, [_inset_label(geo, label, x) for geo, label, _codes, x in INSETS]


def _inset_geo(county_fips):
    """The map a county is drawn on: an inset's, or the main `geo`."""
    return next((inset[0] for inset in INSETS if county_fips[:2] in inset[2]), "geo")


def _top(rows):
    return max((r["incidents"] for r in rows), default=1)


def _colorbar():
    """Under the map, so that it never takes width from a phone-sized map."""
    return {
        "title": {"text": _("Incidents"), "side": "top"},
        "orientation": "h",
        "thickness": 10,
        "len": 0.5,
        "x": 0,
        "xanchor": "left",
        "y": 0,
        "yanchor": "top",
    }


def place_urls(name, link_query):
    """key -> the page of a courthouse (slug) or county (FIPS) with these filters.

    reverse() once per chart rather than once per place: the map names thousands. Slugs
    and FIPS codes hold only URL-safe characters, so the key goes in as it is.
    """
    before, _, after = reverse(name, args=["0"]).rpartition("0")
    return lambda key: f"{before}{key}{after}{link_query}"


def courthouse_points(courthouses, link_query):
    """[{label, lat, lon, incidents, url, geo}] for the courthouses with coordinates."""
    placed = {
        row["slug"]: row
        for row in Courthouse.objects.filter(
            slug__in=[r["key"] for r in courthouses], latitude__isnull=False, longitude__isnull=False
        ).values("slug", "latitude", "longitude", "county_id")
    }
    url = place_urls("courthouse_detail", link_query)
    return [
        {
            "label": r["label"],
            "lat": float(placed[r["key"]]["latitude"]),
            "lon": float(placed[r["key"]]["longitude"]),
            "incidents": r["incidents"],
            "url": url(r["key"]),
            "geo": _inset_geo(placed[r["key"]]["county_id"]),
        }
        for r in courthouses
        if r["key"] in placed
    ]


def _points_traces(points):
    """Courthouses as dots sized by their incidents (by area); a click opens the courthouse."""
    top = max((p["incidents"] for p in points), default=1)
    traces = []
    for geo in ("geo", *(inset[0] for inset in INSETS)):
        mine = [p for p in points if p["geo"] == geo]
        if mine:
            traces.append(
                go.Scattergeo(
                    geo=geo,
                    lat=[p["lat"] for p in mine],
                    lon=[p["lon"] for p in mine],
                    text=[_plain(f"{p['label']}: {_number(p['incidents'])}") for p in mine],
                    customdata=[p["url"] for p in mine],
                    hovertemplate="%{text} " + _("incidents") + "<extra></extra>",
                    mode="markers",
                    marker={
                        "size": [p["incidents"] for p in mine],
                        "sizemode": "area",
                        "sizeref": 2 * top / POINT_MAX**2,
                        "sizemin": 4,
                        "color": ACCENT,
                        "opacity": 0.75,
                        "line": {"color": "#ffffff", "width": 1},
                    },
                    meta="courthouses",
                    name=_("Courthouses"),
                )
            )
    return traces


def map_chart(counties, states, source, link_query, fit_states=(), points=()):
    """County choropleth (counties without incidents grey, state outlines), plus a state layer.

    charts.js fills the traces marked `meta` with every county and state shape
    from our own copy of the Census-derived us-atlas file, draws the islands that
    Albers USA leaves out in the insets (INSETS, named in `meta`), and fits
    the map to `fit_states` (state FIPS codes) when the filters name states.
    A county with incidents opens its page; so does the dot of a courthouse with
    coordinates, sized by its incidents.
    """
    title = _("Incidents by county and state")
    county_url = place_urls("county_detail", link_query)
    common = {
        "featureidkey": "id",
        "marker_line_width": 0.3,
        "marker_line_color": "#ffffff",
    }
    hover = "%{text}: %{z:,} " + _("incidents") + "<extra></extra>"
    traces = [
        go.Choropleth(
            locations=[],
            z=[],
            colorscale=[[0, NONE_GREY], [1, NONE_GREY]],
            showscale=False,
            hoverinfo="skip",
            meta="all-counties",
            name=_("No incidents"),
            **common,
        ),
        go.Choropleth(
            locations=[r["key"] for r in counties],
            z=[r["incidents"] for r in counties],
            text=[_plain(r["label"]) for r in counties],
            hovertemplate=hover,
            colorscale=MAP_SCALE,
            zmin=0,
            zmax=_top(counties),  # else one county alone gets a scale from 12.6 to 13.4
            colorbar=_colorbar(),
            customdata=[county_url(r["key"]) for r in counties],
            meta="counties",
            name=_("Incidents by county"),
            **common,
        ),
        go.Choropleth(
            locations=[],
            z=[],
            colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
            showscale=False,
            hoverinfo="skip",
            meta="state-outlines",
            name=_("States"),
            featureidkey="id",
            marker_line_width=0.9,
            marker_line_color="#4d4d4d",
        ),
        go.Choropleth(
            locationmode="USA-states",
            locations=[r["key"] for r in states],
            z=[r["incidents"] for r in states],
            text=[_plain(r["label"]) for r in states],
            hovertemplate=hover,
            colorscale=MAP_SCALE,
            zmin=0,
            zmax=_top(states),
            visible=False,
            meta="states",
            colorbar=_colorbar(),
            marker_line_width=0.9,
            marker_line_color="#4d4d4d",
            name=_("Incidents by state"),
        ),
        *_points_traces(points),
    ]
    inset_geos, inset_labels = _insets()
    layout = _layout(
        title,
        source,
        height=500,
        geo={
            "scope": "usa",
            "projection": {"type": "albers usa"},
            "showland": True,
            "landcolor": NONE_GREY,
            "showlakes": False,
            "subunitcolor": "#4d4d4d",
            "bgcolor": "#ffffff",
            "showframe": False,
            # Above the insets' strip; charts.js gives it all the height when no inset is drawn.
            "domain": {"x": [0, 1], "y": [INSET_STRIP[1] + 0.02, 1]},
        },
        **inset_geos,
        meta={"fit": sorted(fit_states), "insets": {inset[0]: list(inset[2]) for inset in INSETS}},
    )
    layout["annotations"][:0] = inset_labels
    layout["margin"].update(l=0, r=0)
    head = [_("County"), _("Incidents"), _("People")]
    rows = [
        _row(
            r["label"],
            r["incidents"],
            r["people"],
            url=county_url(r["key"]),
        )
        for r in counties[:TABLE_MAX]
    ]
    state_rows = [_row(r["label"], r["incidents"], r["people"]) for r in states]
    return _chart(
        "chart-map",
        title,
        "county",
        _figure(traces, layout),
        head,
        rows,
        source=source,
        links=True,
        is_map=True,
        truncated=len(counties) > TABLE_MAX,
        total_rows=len(counties),
        state_head=[_("State"), _("Incidents"), _("People")],
        state_rows=state_rows,
    )


# -- bars ------------------------------------------------------------------------


def bar_chart(chart_id, title, by, rows, source, urls=None, label_head=None):
    """Horizontal bars, biggest on top; with `urls`, clicking a bar opens its page."""
    shown = rows[:TOP_N]
    labels = _unique_labels(shown)[::-1]
    bar = go.Bar(
        orientation="h",
        y=labels,
        x=[r["incidents"] for r in reversed(shown)],
        marker_color=ACCENT,
        hovertemplate="%{y}: %{x:,} " + _("incidents") + "<extra></extra>",
        customdata=list(reversed(urls[: len(shown)])) if urls else None,
    )
    layout = _layout(
        title,
        source,
        height=110 + 26 * max(len(shown), 1),
        bargap=0.25,
        xaxis={
            "title": {"text": _("Incidents"), "standoff": 6},
            "rangemode": "tozero",
            **_whole_ticks(max((r["incidents"] for r in shown), default=0)),
            "gridcolor": "#eeeeee",
            "automargin": True,
        },
        # Long names are shortened on the axis (in full on hover and in the table),
        # so that on a phone the bars keep most of the width.
        yaxis={
            "automargin": True,
            "type": "category",
            "tickvals": labels,
            "ticktext": [_short(v) for v in labels],
        },
    )
    head = [label_head or title, _("Incidents"), _("People")]
    table = [
        _row(r["label"], r["incidents"], r["people"], url=urls[i] if urls else None)
        for i, r in enumerate(rows[:TABLE_MAX])
    ]
    return _chart(
        chart_id,
        title,
        by,
        _figure([bar], layout),
        head,
        table,
        source=source,
        links=bool(urls),
        truncated=len(rows) > TABLE_MAX,
        total_rows=len(rows),
    )


def _short(text, limit=LABEL_MAX):
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unique_labels(rows):
    """Bar labels; a category axis would merge two courthouses of the same name."""
    seen = [r["label"] for r in rows]
    return [_plain(r["label"] if seen.count(r["label"]) == 1 else f"{r['label']} ({r['key']})") for r in rows]


def _top_places(kind, rows, source, link_query):
    """The bar chart of the counties or courthouses with most incidents, each bar linking to its page."""
    url = place_urls(f"{kind}_detail", link_query)
    chart, title, axis = {
        "county": ("chart-counties", _("Top counties"), _("County")),
        "courthouse": ("chart-courthouses", _("Top courthouses"), _("Courthouse")),
    }[kind]
    return bar_chart(chart, title, kind, rows, source, [url(r["key"]) for r in rows], axis)


# -- headline figures --------------------------------------------------------------


def headline(by_outcome, counties, courthouses, latest):
    """The dashboard's headline numbers, from the same aggregates as the charts.

    People taken into custody: the people of the incidents whose outcome is
    `arrested`; an incident of unknown outcome may have a count, but is not
    known to be an arrest (see /data/).
    """
    count = {row["key"]: row["incidents"] for row in by_outcome}
    arrested = [row["people"] for row in by_outcome if row["key"] == choices.Outcome.ARRESTED]
    return {
        "incidents": sum(count.values()),
        "people": sum(arrested),
        "arrests": count.get(choices.Outcome.ARRESTED, 0),
        "attempted": count.get(choices.Outcome.ATTEMPTED, 0),
        "observed": count.get(choices.Outcome.OBSERVED, 0),
        "courthouses": len(courthouses),
        "counties": len(counties),
        "latest": latest[0] if latest else None,
    }


# -- pages -------------------------------------------------------------------------
# Built on a cache miss only: views/public.py caches these, rendered, per filters and day.


def _breakdowns(state, source, dimensions):
    return [_breakdown(state, source, by, title) for by, title in dimensions]


def _breakdown(state, source, by, title):
    return bar_chart(f"chart-{by}", str(title), by, stats_for(state, by), source)


def _map(state, stats, source, link_query):
    return map_chart(
        stats["county"],
        stats["state"],
        source,
        link_query,
        _state_fips(state),
        courthouse_points(stats["courthouse"], link_query),
    )


def _monthly(state, source, today):
    """The monthly chart, with the events of its months; None without incidents."""
    months, series = monthly_series(state)
    if not months:
        return None
    events = chart_events(state, _month_day(months[0]["key"]), _month_day(months[-1]["key"]))
    return monthly_chart(months, series, events, source, today=today)


def _state_fips(state):
    codes = state.filterset.form.cleaned_data.get("state") or []
    return list(State.objects.filter(code__in=[str(c) for c in codes]).values_list("fips", flat=True))


def dashboard(state, *, today):
    """Headline figures, every chart and the latest incidents for the dashboard."""
    source, link_query = source_line(state), state.queries["place_link"]
    stats = {by: stats_for(state, by) for by in ("outcome", "county", "state", "courthouse")}
    latest = list(state.incidents[:LATEST_N])
    month = _monthly(state, source, today)
    charts = []
    if month:
        charts = [
            month,
            _map(state, stats, source, link_query),
            _top_places("county", stats["county"], source, link_query),
            _top_places("courthouse", stats["courthouse"], source, link_query),
            *_breakdowns(state, source, BREAKDOWNS),
        ]
    return {
        "headline": headline(stats["outcome"], stats["county"], stats["courthouse"], latest),
        "charts": charts,
        "latest": latest,
    }


def trend(state, *, today):
    """A courthouse or county page: its monthly chart and the breakdowns of its incidents."""
    source = source_line(state)
    month = _monthly(state, source, today)
    if not month:
        return {"charts": []}
    return {"charts": [month, *_breakdowns(state, source, PLACE_BREAKDOWNS)]}


# -- one chart alone, for /embed/<name>/ -------------------------------------------

# Every dashboard chart, by the name in its address: its id without "chart-".
EMBEDS = ("month", "map", "counties", "courthouses", *(by for by, _ in BREAKDOWNS))


def embed_name(chart):
    """The name under which /embed/ serves this chart, or None (a place page's outcome chart)."""
    name = chart["id"].removeprefix("chart-")
    return name if name in EMBEDS else None


def one_chart(state, name, *, today):
    """The dashboard's chart `name` (one of EMBEDS) for a valid FilterState; None without incidents."""
    source, link_query = source_line(state), state.queries["place_link"]
    if name == "month":
        return _monthly(state, source, today)
    if not stats_for(state, "outcome"):
        return None
    if name == "map":
        return _map(
            state, {by: stats_for(state, by) for by in ("county", "state", "courthouse")}, source, link_query
        )
    if name == "counties":
        return _top_places("county", stats_for(state, "county"), source, link_query)
    if name == "courthouses":
        return _top_places("courthouse", stats_for(state, "courthouse"), source, link_query)
    return _breakdown(state, source, name, dict(BREAKDOWNS)[name])
