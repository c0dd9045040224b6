"""Aggregates -> Plotly figures, each with the table that carries the same numbers.

Every number comes from stats.stats_for()/aggregate(), the function behind
/api/stats/, so a chart, its table and its "download data" link cannot disagree.
Figures are built here with plotly's graph_objects (which validates every
property name) and reach the page as JSON; static/js/charts.js only draws them.
views.py caches the rendered charts per filters, scope, day and data version:
building and rendering them is cheap, but not free on every request.
"""

import datetime

import plotly.graph_objects as go
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import choices
from .models import PolicyEvent
from .stats import add_month, aggregate, stats_for

SITE = "Courthouse ICE Arrest Tracker"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
INK, MUTED, ACCENT, NONE_GREY = "#1a1a1a", "#555555", "#0b5394", "#e1e1e1"
# Colour-blind-safe, each distinct from the grey of "no incidents".
OUTCOME_COLORS = {
    choices.Outcome.ARRESTED: "#b2182b",
    choices.Outcome.ATTEMPTED: "#ef8a62",
    choices.Outcome.OBSERVED: "#2166ac",
    choices.Outcome.UNKNOWN: "#8c8c8c",
}
MAP_SCALE = [[0, "#fdd49e"], [0.35, "#f16913"], [1, "#67000d"]]
TOP_N = 15
TABLE_MAX = 100
SOURCE_MAX = 160  # characters of the filter list printed on images
LATEST_N = 10
BREAKDOWNS = (
    ("case_type", gettext_lazy("Case type")),
    ("person_role", gettext_lazy("Person's role in court")),
    ("location", gettext_lazy("Location")),
    ("warrant", gettext_lazy("Warrant shown")),
)


def _plain(text):
    """Text for a Plotly label: Plotly reads a few HTML tags in labels, so none may come from data."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def source_line(state, today):
    pairs = [(n, v) for n, values in state.params.lists() if n != "ordering" for v in values]
    pairs = ([state.scope] if state.scope else []) + sorted(pairs)
    described = ", ".join(f"{name}={value}" for name, value in pairs) or "none"
    if len(described) > SOURCE_MAX:
        described = described[: SOURCE_MAX - 1] + "…"
    return f"Source: {SITE}, retrieved {today.isoformat()}, filters: {described}"


def _layout(title, source, **extra):
    """Common layout; the title and the source line travel with the PNG download."""
    layout = {
        "title": {
            "text": title,
            "x": 0,
            "xanchor": "left",
            "pad": {"l": 12},
            "font": {"size": 16},
        },
        "font": {"family": FONT, "size": 13, "color": INK},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "margin": {"l": 10, "r": 20, "t": 50, "b": 100},
        "showlegend": False,
        "annotations": [
            {
                # Two lines, so that the source fits under a half-width chart too.
                "text": _plain(source).replace(", filters:", ",<br>filters:"),
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": 0,
                "xanchor": "left",
                "align": "left",
                "yanchor": "top",
                "yshift": -50,
                "font": {"size": 11, "color": MUTED},
            }
        ],
    }
    layout.update(extra)
    return layout


def _figure(traces, layout):
    # No template: plotly's default one adds about 7 KB of JSON to every chart,
    # and our layout sets what we use of it.
    return go.Figure(data=traces, layout={**layout, "template": "none"}).to_plotly_json()


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
    series = [
        (outcome, aggregate(state.incidents.filter(outcome=outcome), "month", first, last))
        for outcome in choices.Outcome.values
        if outcome in present
    ]
    return months, series


def _events_between(first, last):
    return list(
        PolicyEvent.objects.filter(date__gte=first, date__lt=add_month(last)).values(
            "date", "jurisdiction", "title"
        )
    )


def _short(text, limit=48):
    return text if len(text) <= limit else text[: limit - 1] + "…"


def monthly_chart(months, series, events, source, chart_id="chart-month", title=None):
    title = title or _("Incidents per month, by outcome")
    x = [f"{row['key']}-01" for row in months]
    traces = [
        go.Bar(
            name=str(choices.Outcome(outcome).label),
            x=x,
            y=[r["incidents"] for r in rows],
            marker_color=OUTCOME_COLORS[outcome],
            xperiod="M1",
            xperiodalignment="middle",
            hovertemplate="%{x|%b %Y}: %{y} "
            + str(choices.Outcome(outcome).label).lower()
            + "<extra></extra>",
        )
        for outcome, rows in series
    ]
    top = max((r["incidents"] for r in months), default=0) or 1
    shapes, notes = [], []
    if events:
        traces.append(
            go.Scatter(
                name=_("Policy events"),
                mode="markers",
                x=[e["date"].isoformat() for e in events],
                y=[top * 1.12] * len(events),
                marker={"symbol": "diamond", "size": 10, "color": INK},
                hovertext=[
                    _plain(f"{e['date']:%Y-%m-%d} · {e['jurisdiction']}: {e['title']}") for e in events
                ],
                hoverinfo="text",
            )
        )
        for event in events:
            day = event["date"].isoformat()
            shapes.append(
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "y",
                    "x0": day,
                    "x1": day,
                    "y0": 0,
                    "y1": top * 1.12,
                    "line": {"color": INK, "width": 1, "dash": "dot"},
                }
            )
            notes.append(
                {
                    "text": _plain(_short(f"{event['date']:%Y-%m} {event['title']}")),
                    "x": day,
                    "y": top * 1.08,
                    "xref": "x",
                    "yref": "y",
                    "textangle": -90,
                    "xanchor": "right",
                    "yanchor": "top",
                    "showarrow": False,
                    "font": {"size": 10, "color": INK},
                    "bgcolor": "rgba(255,255,255,0.8)",
                }
            )
    layout = _layout(
        title,
        source,
        barmode="stack",
        bargap=0.1,
        showlegend=True,
        height=420,
        legend={
            "orientation": "h",
            "x": 0,
            "y": 1.02,
            "yanchor": "bottom",
            "traceorder": "normal",
        },
        xaxis={"type": "date", "tickformat": "%b %Y", "showgrid": False},
        yaxis={
            "title": {"text": _("Incidents")},
            "rangemode": "tozero",
            "range": [0, top * 1.2],
            "gridcolor": "#eeeeee",
        },
        shapes=shapes,
    )
    layout["margin"]["t"] = 80
    layout["annotations"] = notes + layout["annotations"]
    head = [
        _("Month"),
        *[str(choices.Outcome(o).label) for o, _rows in series],
        _("Total incidents"),
        _("People"),
    ]
    rows = [
        _row(
            row["label"],
            *[s[i]["incidents"] for _o, s in series],
            row["incidents"],
            row["people"],
        )
        for i, row in enumerate(months)
    ]
    events_table = [
        {"date": e["date"], "jurisdiction": e["jurisdiction"], "title": e["title"]} for e in events
    ]
    return _chart(
        chart_id,
        title,
        "month",
        _figure(traces, layout),
        head,
        rows,
        events=events_table,
    )


# -- map -------------------------------------------------------------------------


def map_chart(counties, states, source, link_query):
    """County choropleth (counties without incidents grey, state outlines), plus a state layer.

    charts.js fills the traces marked `meta` with every county and state shape
    from our own copy of the Census-derived us-atlas file.
    """
    title = _("Incidents by county and state")
    common = {
        "featureidkey": "id",
        "marker_line_width": 0.3,
        "marker_line_color": "#ffffff",
    }
    hover = "%{text}: %{z} incidents<extra></extra>"
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
            colorbar={"title": {"text": _("Incidents")}, "thickness": 12},
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
            visible=False,
            meta="states",
            colorbar={"title": {"text": _("Incidents")}, "thickness": 12},
            marker_line_width=0.9,
            marker_line_color="#4d4d4d",
            name=_("Incidents by state"),
        ),
    ]
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
        },
    )
    layout["margin"].update(l=0, r=0)
    head = [_("County"), _("Incidents"), _("People")]
    rows = [
        _row(
            r["label"],
            r["incidents"],
            r["people"],
            url=_county_url(r["key"], link_query),
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
        hovertemplate="%{y}: %{x} incidents<extra></extra>",
        customdata=list(reversed(urls[: len(shown)])) if urls else None,
    )
    layout = _layout(
        title,
        source,
        height=110 + 26 * max(len(shown), 1),
        bargap=0.25,
        xaxis={
            "title": {"text": _("Incidents")},
            "rangemode": "tozero",
            "gridcolor": "#eeeeee",
        },
        yaxis={"automargin": True, "type": "category"},
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
        links=bool(urls),
        truncated=len(rows) > TABLE_MAX,
        total_rows=len(rows),
    )


def _unique_labels(rows):
    """Bar labels; a category axis would merge two courthouses of the same name."""
    seen = [r["label"] for r in rows]
    return [_plain(r["label"] if seen.count(r["label"]) == 1 else f"{r['label']} ({r['key']})") for r in rows]


def _county_url(fips, link_query):
    return reverse("county_detail", args=[fips]) + link_query


def _top_counties(counties, source, link_query):
    urls = [_county_url(r["key"], link_query) for r in counties]
    return bar_chart(
        "chart-counties",
        _("Top counties"),
        "county",
        counties,
        source,
        urls,
        _("County"),
    )


def _top_courthouses(courthouses, source, link_query):
    urls = [reverse("courthouse_detail", args=[r["key"]]) + link_query for r in courthouses]
    return bar_chart(
        "chart-courthouses",
        _("Top courthouses"),
        "courthouse",
        courthouses,
        source,
        urls,
        _("Courthouse"),
    )


# -- headline figures --------------------------------------------------------------


def headline(by_outcome, counties, courthouses, latest):
    """The dashboard's headline numbers, from the same aggregates as the charts."""
    count = {row["key"]: row["incidents"] for row in by_outcome}
    return {
        "incidents": sum(count.values()),
        "people": sum(row["people"] for row in by_outcome),
        "arrests": count.get(choices.Outcome.ARRESTED, 0),
        "attempted": count.get(choices.Outcome.ATTEMPTED, 0),
        "observed": count.get(choices.Outcome.OBSERVED, 0),
        "courthouses": len(courthouses),
        "counties": len(counties),
        "latest": latest[0] if latest else None,
    }


# -- pages -------------------------------------------------------------------------
# Built on a cache miss only: views.py caches these, rendered, per filters and day.


def dashboard(state, *, today):
    """Headline figures, every chart and the latest incidents for the dashboard."""
    source, link_query = source_line(state, today), state.queries["place_link"]
    stats = {by: stats_for(state, by) for by in ("outcome", "county", "state", "courthouse")}
    latest = list(state.incidents[:LATEST_N])
    months, series = monthly_series(state)
    charts = []
    if months:
        events = _events_between(_month_day(months[0]["key"]), _month_day(months[-1]["key"]))
        charts = [
            monthly_chart(months, series, events, source),
            map_chart(stats["county"], stats["state"], source, link_query),
            _top_counties(stats["county"], source, link_query),
            _top_courthouses(stats["courthouse"], source, link_query),
            *[
                bar_chart(
                    f"chart-{by}",
                    str(title),
                    by,
                    stats_for(state, by),
                    source,
                )
                for by, title in BREAKDOWNS
            ],
        ]
    return {
        "headline": headline(stats["outcome"], stats["county"], stats["courthouse"], latest),
        "charts": charts,
        "latest": latest,
    }


def trend(state, *, today):
    """The monthly chart of one courthouse or county page."""
    months, series = monthly_series(state)
    if not months:
        return {"charts": []}
    events = _events_between(_month_day(months[0]["key"]), _month_day(months[-1]["key"]))
    return {"charts": [monthly_chart(months, series, events, source_line(state, today))]}
