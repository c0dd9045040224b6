"""q=: words of the summary in English or Spanish, or part of a courthouse's name (incidents/search.py)."""

import pytest
from django.db import connection

from incidents import search

from .factories import CourthouseFactory, IncidentFactory
from .test_filters import ids, listed

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text search is PostgreSQL's"
)


@pytest.fixture
def incidents():
    harbor = CourthouseFactory(name="Harbor Family Court")
    return {
        "english": IncidentFactory(summary="Agents waited in the hallway and detained a witness."),
        "spanish": IncidentFactory(summary="Los agentes realizaron una detención en el pasillo."),
        "harbor": IncidentFactory(courthouse=harbor, summary="Arrested at the entrance."),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("hallway", ["english"]),
        ("HALLWAY", ["english"]),
        ("detención", ["spanish"]),
        ("pasillo agentes", ["spanish"]),
        ("Harbor", ["harbor"]),
        ("family court", ["harbor"]),
        ("arrested", ["harbor"]),
        ("hallway pasillo", []),
    ],
)
def test_it_finds_summary_words_and_courthouse_names(client, incidents, query, expected):
    assert listed(client, f"q={query}") == ids(*(incidents[name] for name in expected))


def test_punctuation_alone_finds_only_courthouse_names(client, incidents):
    assert listed(client, "q=%21%21%21") == set()
    assert client.get("/?q=%21%27%26%7C").status_code == 200


@on_postgresql
def test_a_common_word_finds_the_same_rows_as_a_rare_one(client, incidents, monkeypatch):
    everything = listed(client, "q=the+hallway")
    monkeypatch.setattr(search, "RARE", 1)  # every word now counts as common
    assert listed(client, "q=the+hallway") == everything == ids(incidents["english"])


@on_postgresql
def test_only_whole_words_are_found(client, incidents):
    assert listed(client, "q=hall") == set()
    assert listed(client, "q=detained") == ids(incidents["english"])


@on_postgresql
def test_a_retracted_incident_is_not_found_by_its_words(client, incidents):
    from incidents import choices

    incidents["spanish"].status = choices.Status.RETRACTED
    incidents["spanish"].save()
    assert listed(client, "q=detención") == set()


@on_postgresql
def test_the_apps_queries_take_no_parallel_workers():
    # Parallel plans cost throughput under a busy worker pool (tracker/settings.py).
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"
