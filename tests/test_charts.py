"""Dashboard figures and charts: numbers equal to counts made here, independently of the code."""

import datetime
import html
import json
import re
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest

from incidents import choices

from .factories import CourthouseFactory, IncidentFactory, PolicyEventFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def figures(content):
    """{chart id: Plotly figure} from the page's json_script blocks."""
    return {
        chart_id: json.loads(body)
        for chart_id, body in re.findall(
            r'<script id="(chart-[\w-]+)-data" type="application/json">(.*?)</script>',
            content,
            re.DOTALL,
        )
    }


def trace(figure, name):
    return next(t for t in figure["data"] if t.get("name") == name)


def bars(figure):
    """{label: value} of a horizontal bar chart."""
    (bar,) = figure["data"]
    return dict(zip(bar["y"], bar["x"], strict=True))


@pytest.fixture
def data():
    """Incidents in Jan and Mar 2019 (none in Feb) in Brooklyn and El Paso, one retracted."""
    brooklyn = CourthouseFactory(name="Brooklyn Criminal Court")
    el_paso = CourthouseFactory(name="El Paso County Courthouse", texas=True)
    rows = [
        IncidentFactory(courthouse=brooklyn, date=D(2019, 1, 3), people_count=2),
        IncidentFactory(courthouse=brooklyn, date=D(2019, 1, 20), case_type="family"),
        IncidentFactory(courthouse=brooklyn, date=D(2019, 3, 1), attempted=True, warrant="judicial"),
        IncidentFactory(courthouse=el_paso, date=D(2019, 3, 9), observed=True, person_role="victim"),
        IncidentFactory(courthouse=el_paso, month_only=True, date=D(2019, 3, 1), location="outside"),
    ]
    IncidentFactory(courthouse=el_paso, date=D(2019, 2, 2), retracted=True)
    PolicyEventFactory(date=D(2019, 2, 10), title="In range")
    PolicyEventFactory(date=D(2021, 6, 1), title="Out of range")
    return rows


def test_the_monthly_chart_counts_each_outcome_with_every_month_present(client, data):
    month = figures(client.get("/").content.decode())["chart-month"]
    expected = Counter((i.date.strftime("%Y-%m-01"), i.outcome) for i in data)
    # February has none: drawn as zero.
    months = ["2019-01-01", "2019-02-01", "2019-03-01"]
    for outcome in ("arrested", "attempted", "observed"):
        series = trace(month, str(choices.Outcome(outcome).label))
        assert series["x"] == months
        assert series["y"] == [expected[(m, outcome)] for m in months]
    # No incident has the outcome "unknown": no empty series.
    assert "Unknown" not in {t["name"] for t in month["data"]}
    assert month["layout"]["barmode"] == "stack"


def test_a_filter_the_summary_cannot_answer_counts_every_outcomes_months_in_one_query(data):
    """A county page or a case-type filter: one GROUP BY month and outcome, not one per outcome."""
    from django.db import connection
    from django.http import QueryDict
    from django.test.utils import CaptureQueriesContext

    from incidents import charts, stats
    from incidents.filters import filter_incidents

    for query in ("case_type=criminal", "county=36047", ""):
        state = filter_incidents(QueryDict(query))
        stats.stats_for(state, "month"), stats.stats_for(state, "outcome")  # cached first
        with CaptureQueriesContext(connection) as queries:
            months, series = charts.monthly_series(state)
        incidents = state.incidents
        first, last = charts._month_day(months[0]["key"]), charts._month_day(months[-1]["key"])
        assert series == [
            (outcome, stats.aggregate(incidents.filter(outcome=outcome), "month", first, last))
            for outcome in choices.Outcome.values
            if incidents.filter(outcome=outcome).exists()
        ]
        grouped = [q["sql"] for q in queries if "GROUP BY" in q["sql"] and "incidents_incident" in q["sql"]]
        assert len(grouped) == (1 if query else 0), (query, grouped)  # no filter: the summary


def test_the_monthly_chart_spans_the_chosen_date_range_within_the_data(client, data):
    content = client.get("/?date_after=2018-11-15&date_before=2019-04-30").content.decode()
    arrested = trace(figures(content)["chart-month"], "Arrested")
    # The months before and after the data's own are not drawn.
    assert arrested["x"] == ["2019-01-01", "2019-02-01", "2019-03-01"]
    assert arrested["y"] == [2, 0, 1]
    # The zero month is in the table too.
    assert '<th scope="row">Feb 2019</th>' in content


def test_policy_events_in_range_are_numbered_markers_listed_under_the_chart(client, data):
    content = client.get("/").content.decode()
    month = figures(content)["chart-month"]
    events = trace(month, "Policy events")
    assert events["x"] == ["2019-02-10"]
    assert events["text"] == ["1"]
    assert events["yaxis"] == "y2"  # the strip above the bars, away from every axis label
    assert "In range" in events["hovertext"][0]
    # No event text is written on the chart itself: the list under it holds it.
    assert not any("In range" in a["text"] for a in month["layout"]["annotations"])
    listed = content.split('class="chart-events"', 1)[1].split("</ol>", 1)[0]
    assert '<span class="event-number">1</span>' in listed and "In range" in listed
    assert "Out of range" not in content
    assert [s["x0"] for s in month["layout"]["shapes"]] == ["2019-02-10"]


def test_events_close_in_time_get_separate_rows_and_kinds_get_their_own_markers():
    from incidents.charts import monthly_chart

    months = [{"key": f"2019-{m:02d}", "label": f"m{m}", "incidents": 1, "people": 1} for m in range(1, 13)]
    events = [
        {"date": D(2019, 3, 1), "kind": "policy", "label": "Federal: A"},
        {"date": D(2019, 3, 5), "kind": "policy", "label": "New York: B"},
        {"date": D(2019, 9, 1), "kind": "coverage", "label": "C"},
    ]
    figure = monthly_chart(months, [], events, "Source")["figure"]
    policy, coverage = trace(figure, "Policy events"), trace(figure, "Coverage changes")
    assert policy["y"] == [0, 1] and policy["text"] == ["1", "2"]
    assert coverage["y"] == [0] and coverage["text"] == ["3"]
    assert policy["marker"]["symbol"] != coverage["marker"]["symbol"]
    assert figure["layout"]["yaxis2"]["range"] == [-0.6, 1.6]


def test_the_month_under_way_is_hatched_and_marked_so_far(client):
    today = datetime.datetime.now(datetime.UTC).date()
    IncidentFactory(date=today.replace(day=1))
    IncidentFactory(date=(today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1))
    content = client.get("/").content.decode()
    month = figures(content)["chart-month"]
    arrested = trace(month, "Arrested")
    assert arrested["marker"]["pattern"]["shape"] == ["", "/"]
    assert arrested["customdata"] == ["", " (so far)"]
    assert trace(month, "Month so far (hatched)")
    assert f'<th scope="row">{today:%b %Y} (so far)</th>' in content
    assert content.count("(so far)</th>") == 1


def test_the_map_and_top_counties_count_incidents_per_county_and_state(client, data):
    charts = figures(client.get("/").content.decode())
    by_county, by_state = (
        Counter(i.county_id for i in data),
        Counter(i.state_id for i in data),
    )
    counties = next(t for t in charts["chart-map"]["data"] if t.get("meta") == "counties")
    assert dict(zip(counties["locations"], counties["z"], strict=True)) == by_county
    states = next(t for t in charts["chart-map"]["data"] if t.get("meta") == "states")
    assert dict(zip(states["locations"], states["z"], strict=True)) == by_state
    assert states["locationmode"] == "USA-states" and states["visible"] is False
    assert {t.get("meta") for t in charts["chart-map"]["data"]} >= {
        "all-counties",
        "state-outlines",
    }
    assert bars(charts["chart-counties"]) == {
        "Kings County, NY": 3,
        "El Paso County, TX": 2,
    }


def test_top_bars_link_to_their_pages_with_the_current_filters(client, data):
    charts = figures(client.get("/?verification=verified&ordering=date").content.decode())
    (bar,) = charts["chart-courthouses"]["data"]
    links = dict(zip(bar["y"], bar["customdata"], strict=True))
    slug = data[0].courthouse.slug
    assert links["Brooklyn Criminal Court"] == f"/courthouses/{slug}/?verification=verified"
    (bar,) = charts["chart-counties"]["data"]
    assert dict(zip(bar["y"], bar["customdata"], strict=True))["Kings County, NY"] == (
        "/counties/36047/?verification=verified"
    )


def test_top_courthouse_tables_link_to_their_pages(client, data):
    content = client.get("/").content.decode()
    assert re.search(
        rf'<a href="/courthouses/{data[0].courthouse.slug}/">Brooklyn Criminal Court</a>',
        content,
    )
    assert '<a href="/counties/36047/">Kings County, NY</a>' in content


@pytest.mark.parametrize(
    ("by", "field"),
    [
        ("case_type", "case_type"),
        ("person_role", "person_role"),
        ("location", "location"),
        ("warrant", "warrant"),
    ],
)
def test_each_breakdown_counts_its_values(client, data, by, field):
    chart = figures(client.get("/").content.decode())[f"chart-{by}"]
    labels = dict(choices_of(field))
    assert bars(chart) == {labels[value]: n for value, n in Counter(getattr(i, field) for i in data).items()}


def choices_of(field):
    from incidents.models import CHOICE_FIELDS

    return [(value, str(label)) for value, label in CHOICE_FIELDS[field].choices]


def test_the_headline_figures_equal_counts_made_here(client, data):
    content = client.get("/").content.decode()
    figures_ = dict(re.findall(r"<dt>([^<]+)</dt><dd>([\d,]+)</dd>", content))
    assert figures_ == {
        "Incidents": str(len(data)),
        "People taken into custody": str(sum(i.people_count for i in data if i.outcome == "arrested")),
        "Attempted arrests": str(sum(i.outcome == "attempted" for i in data)),
        "Sightings of agents": str(sum(i.outcome == "observed" for i in data)),
        "Courthouses affected": str(len({i.courthouse_id for i in data})),
        "Counties affected": str(len({i.county_id for i in data})),
    }
    latest = max(data, key=lambda i: (i.date, i.pk))
    assert f'href="/incidents/{latest.pk}/">{latest.date.isoformat()}</a>' in content


def test_filters_narrow_every_chart_and_figure(client, data):
    content = client.get("/?state=TX").content.decode()
    assert re.search(r"<dt>Incidents</dt><dd>2</dd>", content)
    assert bars(figures(content)["chart-counties"]) == {"El Paso County, TX": 2}
    latest = content.split('id="latest-title"', 1)[1]
    assert "Brooklyn Criminal Court" not in latest


def test_each_chart_has_a_table_and_download_links_for_the_same_filters(client, data):
    content = client.get("/?state=NY&ordering=date").content.decode()
    charts = figures(content)
    assert set(charts) == {
        "chart-month",
        "chart-map",
        "chart-counties",
        "chart-courthouses",
        "chart-court_type",
        "chart-case_type",
        "chart-person_role",
        "chart-location",
        "chart-warrant",
    }
    assert content.count('<details class="chart-table">') == len(charts)
    for by in (
        "month",
        "county",
        "state",
        "courthouse",
        "court_type",
        "case_type",
        "person_role",
        "location",
        "warrant",
    ):
        for suffix in ("", "&format=csv"):
            href = f"/api/stats/?by={by}&state=NY{suffix}"
            assert f'href="{html.escape(href)}"' in content, href


def test_the_charts_agree_with_the_stats_api(client, data):
    charts = figures(client.get("/?state=NY").content.decode())
    api = {
        row["label"]: row["incidents"]
        for row in client.get("/api/stats/?by=case_type&state=NY").json()["results"]
    }
    assert bars(charts["chart-case_type"]) == api
    arrested = trace(charts["chart-month"], "Arrested")
    drawn = {x[:7]: y for x, y in zip(arrested["x"], arrested["y"], strict=True) if y}
    api_months = client.get("/api/stats/?by=month&state=NY&outcome=arrested").json()["results"]
    assert drawn == {row["key"]: row["incidents"] for row in api_months if row["incidents"]}


def test_every_figure_carries_the_source_line_for_its_png(client, data):
    from incidents.cache import data_state

    as_of = data_state().changed_at
    when = f"{as_of.day} {as_of:%b %Y, %H:%M} UTC"
    for figure in figures(client.get("/?state=NY&outcome=arrested").content.decode()).values():
        source = figure["layout"]["annotations"][-1]["text"].replace("<br>", " ")
        assert source == (
            f"Source: Courthouse ICE Arrest Tracker, data as of {when}, filters: outcome=arrested, state=NY"
        )
        assert figure["layout"]["title"]["text"]
    assert (
        "filters: none"
        in figures(client.get("/").content.decode())["chart-month"]["layout"]["annotations"][-1]["text"]
    )


def test_labels_from_data_cannot_inject_plotly_markup(client):
    IncidentFactory(courthouse=CourthouseFactory(name='<a href="https://evil.example">Court</a>'))
    charts = figures(client.get("/?q=<b>").content.decode() + client.get("/").content.decode())
    assert bars(charts["chart-courthouses"]) == {'&lt;a href="https://evil.example"&gt;Court&lt;/a&gt;': 1}


def test_two_courthouses_with_one_name_keep_two_bars(client):
    for texas in (False, True):
        IncidentFactory(courthouse=CourthouseFactory(name="County Courthouse", texas=texas))
    labels = list(bars(figures(client.get("/").content.decode())["chart-courthouses"]))
    assert len(labels) == 2 and all(label.startswith("County Courthouse") for label in labels)


def test_a_write_shows_on_the_dashboard_at_once(client, data, django_capture_on_commit_callbacks):
    assert re.search(r"<dt>Incidents</dt><dd>5</dd>", client.get("/").content.decode())
    with django_capture_on_commit_callbacks(execute=True):
        IncidentFactory()
    assert re.search(r"<dt>Incidents</dt><dd>6</dd>", client.get("/").content.decode())


def test_no_incident_means_no_chart_and_an_empty_state(client, data):
    content = client.get("/?state=CA").content.decode()
    assert figures(content) == {}
    assert "No incidents match these filters." in content


def test_a_courthouse_page_charts_its_own_months(client, data):
    content = client.get(f"/courthouses/{data[3].courthouse.slug}/").content.decode()
    month = figures(content)["chart-month"]
    assert trace(month, "Agents observed")["y"] == [1]
    assert trace(month, "Arrested")["x"] == ["2019-03-01"]
    source = month["layout"]["annotations"][-1]["text"]
    assert f"courthouse={data[3].courthouse.slug}" in source
    assert parse_qs(
        urlsplit(
            "/?" + html.unescape(re.search(r'href="/api/stats/\?(by=month[^"]*)"', content).group(1))
        ).query
    ) == {"by": ["month"], "courthouse": [data[3].courthouse.slug], "format": ["csv"]}


def test_people_taken_into_custody_counts_the_people_of_arrests_only(client):
    IncidentFactory(people_count=3)
    IncidentFactory(attempted=True)
    IncidentFactory(outcome=choices.Outcome.UNKNOWN, people_count=4)  # may hold a count; not an arrest
    content = client.get("/").content.decode()
    assert re.search(r"<dt>People taken into custody</dt><dd>3</dd>", content)
    assert 'href="/data/#headlines"' in content
    definitions = client.get("/data/").content.decode()
    assert 'id="headlines"' in definitions and "whose outcome is <code>arrested</code>" in definitions


def test_place_pages_break_down_their_own_incidents_with_the_same_filters(client, data):
    content = client.get(f"/counties/{data[0].county_id}/?outcome=arrested").content.decode()
    charts = figures(content)
    assert {"chart-outcome", "chart-case_type", "chart-person_role"} <= set(charts)
    assert bars(charts["chart-outcome"]) == {"Arrested": 2}
    assert bars(charts["chart-case_type"]) == {"Criminal": 1, "Family": 1}
    api = client.get(f"/api/stats/?by=person_role&outcome=arrested&county={data[0].county_id}").json()[
        "results"
    ]
    assert bars(charts["chart-person_role"]) == {row["label"]: row["incidents"] for row in api}


def test_map_counties_link_to_their_pages_and_a_state_filter_fits_the_map(client, data):
    charts = figures(client.get("/?state=NY&outcome=arrested").content.decode())
    counties = next(t for t in charts["chart-map"]["data"] if t.get("meta") == "counties")
    assert counties["customdata"] == [f"/counties/{data[0].county_id}/?state=NY&outcome=arrested"]
    assert charts["chart-map"]["layout"]["meta"]["fit"] == ["36"]
    api = client.get("/api/stats/?by=county&state=NY&outcome=arrested").json()["results"]
    assert dict(zip(counties["locations"], counties["z"], strict=True)) == {
        r["key"]: r["incidents"] for r in api
    }
    whole = figures(client.get("/").content.decode())["chart-map"]
    assert whole["layout"]["meta"]["fit"] == []


def test_every_island_group_albers_usa_leaves_out_has_an_inset(client):
    """Puerto Rico, the Virgin Islands, Guam, the Northern Marianas and American Samoa."""
    guam = CourthouseFactory(name="Guam Judicial Center", city="Hagåtña", county_id="66010")
    guam.__class__.objects.filter(pk=guam.pk).update(latitude="13.47450", longitude="144.75190")
    IncidentFactory(courthouse=guam)
    figure = figures(client.get("/").content.decode())["chart-map"]
    insets = figure["layout"]["meta"]["insets"]
    assert sorted(code for codes in insets.values() for code in codes) == ["60", "66", "69", "72", "78"]
    for geo in insets:
        assert figure["layout"][geo]["domain"]["y"][1] < figure["layout"]["geo"]["domain"]["y"][0]  # under it
    labels = [
        a["text"] for a in figure["layout"]["annotations"] if a.get("name", "").startswith("inset-label-")
    ]
    assert labels == ["GU · MP", "AS", "PR · VI"]
    (dot,) = [t for t in figure["data"] if t.get("meta") == "courthouses"]
    assert dot["geo"] == next(geo for geo, codes in insets.items() if "66" in codes)


def test_courthouses_with_coordinates_are_dots_sized_by_incidents_linking_to_their_pages(client, data):
    from incidents.models import Courthouse

    Courthouse.objects.filter(pk=data[0].courthouse_id).update(latitude="40.69350", longitude="-73.98780")
    charts = figures(client.get("/?outcome=arrested").content.decode())
    (dots,) = [t for t in charts["chart-map"]["data"] if t.get("meta") == "courthouses"]
    slug = data[0].courthouse.slug
    assert (dots["lat"], dots["lon"]) == ([40.6935], [-73.9878])
    assert dots["customdata"] == [f"/courthouses/{slug}/?outcome=arrested"]
    assert dots["marker"]["size"] == [2]  # El Paso's courthouse has no coordinates: no dot
    assert dots["geo"] == "geo"


def test_short_axes_tick_every_whole_incident(client, data):
    charts = figures(client.get("/").content.decode())
    assert charts["chart-month"]["layout"]["yaxis"]["dtick"] == 1  # no "0.5 incidents"
    assert charts["chart-counties"]["layout"]["xaxis"]["dtick"] == 1
    IncidentFactory.create_batch(7, date=D(2019, 1, 9))
    many = figures(client.get("/").content.decode())
    assert "dtick" not in many["chart-month"]["layout"]["yaxis"]
