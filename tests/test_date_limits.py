"""Dates in query strings and in the data: bounded work, no overflow, and one rule that adds up."""

import datetime
import pickle

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from incidents import stats
from incidents.comparison import all_compared
from incidents.models import Incident

from .export_helpers import content_of
from .factories import CourthouseFactory, IncidentFactory

D = datetime.date
WIDE = "date_after=1900-01-01&date_before=9999-11-30"


@pytest.fixture
def places(db):
    brooklyn = CourthouseFactory()
    IncidentFactory(courthouse=brooklyn, date=D(2019, 1, 3))
    IncidentFactory(courthouse=brooklyn, date=D(2021, 6, 9), attempted=True)
    return brooklyn


def cost(client, url):
    """(queries, bytes written to the shared cache) of one anonymous request."""
    stored = []
    original = cache.set

    def counting_set(key, value, *args, **kwargs):
        stored.append(len(pickle.dumps(value)))
        return original(key, value, *args, **kwargs)

    cache.set = counting_set
    try:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
    finally:
        del cache.set
    return len(queries), sum(stored)


@pytest.mark.parametrize("page", ["/", "/counties/36047/", "/courthouses/{slug}/"])
def test_a_range_as_wide_as_the_calendar_costs_what_the_page_without_dates_costs(
    client, settings, places, page
):
    settings.PUBLIC_PAGE_CACHE = True
    url = page.format(slug=places.slug)
    all_compared()  # our counts beside published figures: cached once for every filter
    plain_queries, plain_bytes = cost(client, url)
    wide_queries, wide_bytes = cost(client, f"{url}?{WIDE}")
    # A few more: the data's first and last day, and the dates' filter chips and source line.
    assert wide_queries - plain_queries <= 3
    assert abs(wide_bytes - plain_bytes) <= 3000


def test_the_monthly_chart_is_clipped_to_the_data_months(client, places):
    rows = stats.aggregate(Incident.objects.public(), "month", D(1990, 1, 1), D(9999, 12, 31))
    assert (rows[0]["key"], rows[-1]["key"], len(rows)) == ("2019-01", "2021-06", 30)


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/incidents/",
        "/api/stats/?by=month",
        "/api/incidents/",
        "/incidents/export.csv",
        "/counties/36047/",
        "/courthouses/{slug}/",
    ],
)
@pytest.mark.parametrize("dates", ["date_before=9999-12-31", "date_after=9999-12-31", WIDE])
def test_the_last_day_of_the_calendar_is_an_ordinary_date(client, places, url, dates):
    url = url.format(slug=places.slug)
    response = client.get(url + ("&" if "?" in url else "?") + dates)
    assert response.status_code == 200


def test_the_last_month_of_the_calendar_has_no_next_month_but_no_overflow():
    assert stats.add_month(D(9999, 12, 1)) == D.max
    assert stats.add_month(D(2024, 12, 31)) == D(2025, 1, 1)


def test_a_stored_date_from_antiquity_breaks_no_page(client, places):
    # Written straight to the table, as an old import or a database edit could.
    typo = IncidentFactory(courthouse=places)
    Incident.objects.filter(pk=typo.pk).update(date=D(24, 5, 1))
    for url in ["/", f"/courthouses/{places.slug}/", "/counties/36047/", "/api/stats/?by=month"]:
        assert client.get(url).status_code == 200, url
    assert client.get(f"/incidents/{typo.pk}/").status_code == 200


def test_month_keys_are_zero_padded_and_read_back():
    from incidents.charts import _month_day

    assert stats.month_key(D(24, 5, 1)) == "0024-05"
    assert _month_day(stats.month_key(D(24, 5, 1))) == D(24, 5, 1)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01",
        "10000-01-01",
        "2017-02-30",
        "11-30",
        "+2020-01-01",
        "-2020-01-01",
        "2020-1-1",
        "٢٠٢٠-٠١-٠١",
    ],
)
def test_only_a_real_iso_date_is_a_date(client, db, text):
    assert client.get("/api/incidents/", {"date_after": text}).status_code == (
        200 if text == "0001-01-01" else 400
    )


# -- one date rule ------------------------------------------------------------------

days = st.dates(min_value=D(1985, 1, 1), max_value=D(2030, 12, 31))
incidents = st.lists(
    st.tuples(st.dates(min_value=D(2017, 1, 1), max_value=D(2024, 12, 31)), st.booleans()),
    max_size=8,
)


class TestDatesAddUp(TestCase):
    """For every D, date_before=D plus date_after=D+1 is every incident, wherever it is counted."""

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(rows=incidents, day=days)
    def test_a_split_at_any_day_adds_up_to_the_total(self, rows, day):
        court = CourthouseFactory()
        for when, month_only in rows:
            IncidentFactory(
                courthouse=court,
                date=when.replace(day=1) if month_only else when,
                date_precision="month" if month_only else "day",
            )
        after = day + datetime.timedelta(days=1)
        for count in (self.listed, self.stats_total, self.exported):
            total = count("")
            assert total == len(rows)
            assert count(f"date_before={day}") + count(f"date_after={after}") == total

    def listed(self, query):
        return len(self.client.get(f"/api/incidents/?limit=1000&{query}").json()["results"])

    def stats_total(self, query):
        return sum(
            row["incidents"] for row in self.client.get(f"/api/stats/?by=outcome&{query}").json()["results"]
        )

    def exported(self, query):
        return content_of(self.client.get(f"/incidents/export.csv?{query}")).count(b"\n") - 1
