"""Data and readers shared by the export, API and export-command tests."""

import csv
import datetime
import io

from django.http import QueryDict

from incidents.filters import filter_incidents
from incidents.models import Incident

from .factories import CourthouseFactory, IncidentFactory

# The header of docs/csv.md, copied by hand on purpose: the test must fail if export.COLUMNS drifts.
SPEC_HEADER = (
    "id,reference,date,date_precision,state,county,county_fips,courthouse,courthouse_city,"
    "court_type,case_type,outcome,people_count,person_role,location,agency,plain_clothes,"
    "agents_identified,force_used,court_staff_assisted,warrant,verification,source_type,"
    "source_url,summary,created_at,updated_at"
)

FORMULA_VALUES = [
    "=SUM(A1)",
    "+1",
    "-1",
    "@cmd",
    "\tx",
    "\rx",
    "'=x",
    "''+x",
    "'''@x",
    "=",
    "-",
    "'\t",
]
PLAIN_VALUES = [
    "'hello",
    "'",
    "''",
    "a=b",
    " =x",
    "x-1",
    "résumé",
    "",
    "2019-05-14",
    "1,2",
    'say "hi"',
    "line\nbreak",
    "日本語 ✓",
    "  padded  ",
    "\\.",
    "\\N",
    "NULL",
    "\u2028",
    "\x0b\x0c",
]
HOSTILE = (
    FORMULA_VALUES
    + PLAIN_VALUES
    + [
        '"quoted", with comma',
        "cr\rin the middle",
        "crlf\r\nin the middle",
        "\n",
        "\r",
        "\r\n",
        ",",
        '"',
        "'\r",
        '="a,b"\n',
        "end with newline\n",
        "ünïcödé\n=not-first",
        "emoji 🙂",
        "tab\tinside",
    ]
)

LIST_QUERIES = [
    "",
    "state=NY",
    "state=NY&state=TX",
    "state=ny",
    "county=48141",
    "outcome=arrested&case_type=family",
    "outcome=attempted&outcome=observed",
    "date_after=2019-05-10&date_before=2019-05-20",
    "date_after=2019-05-10",
    "q=hallway",
    "verification=disputed&ordering=people_count",
    "ordering=-people_count",
    "ordering=date",
    "ordering=updated_at",
    "warrant=judicial&agency=cbp",
    "person_role=victim&location=outside",
    "court_type=immigration",
    "court_type=state&court_type=federal&state=TX",
]


def varied_incidents():
    """A few incidents spread over every filter, plus rows that must never be exported."""
    ny, tx, ca = (
        CourthouseFactory(),
        CourthouseFactory(texas=True),
        CourthouseFactory(california=True, name="Los Angeles Immigration Court", court_type="immigration"),
    )
    made = [
        IncidentFactory(courthouse=ny, date=datetime.date(2019, 5, 14)),
        IncidentFactory(
            courthouse=ny,
            date=datetime.date(2019, 5, 14),
            case_type="family",
            people_count=3,
        ),
        IncidentFactory(courthouse=ny, month_only=True),
        IncidentFactory(
            courthouse=tx,
            attempted=True,
            date=datetime.date(2019, 5, 9),
            summary="Seen near the hallway",
        ),
        IncidentFactory(
            courthouse=tx,
            observed=True,
            date=datetime.date(2018, 1, 2),
            verification="disputed",
        ),
        IncidentFactory(
            courthouse=tx,
            warrant="judicial",
            agency="cbp",
            date=datetime.date(2020, 3, 1),
        ),
        IncidentFactory(
            courthouse=ca,
            person_role="victim",
            location="outside",
            date=datetime.date(2019, 5, 20),
        ),
        IncidentFactory(
            courthouse=ca,
            outcome="unknown",
            people_count=0,
            verification="disputed",
            date=datetime.date(2019, 5, 21),
        ),
    ]
    IncidentFactory(
        courthouse=ny,
        retracted=True,
        reference="RETRACTED-1",
        summary="retracted-summary",
    )
    IncidentFactory(
        courthouse=ny,
        internal_notes="SECRET-NOTE",
        docket_number="DOCKET-XYZ-9",
        reporter_contact="reporter@example.org",
    )
    return made


def bulk_incidents(count, courthouse=None, **fields):
    """Many rows fast (no history, one INSERT per 500)."""
    courthouse = courthouse or CourthouseFactory()
    defaults = {
        "date": datetime.date(2019, 5, 14),
        "case_type": "criminal",
        "outcome": "arrested",
        "people_count": 1,
        "summary": "Agents arrested a defendant in the hallway.",
    }
    rows = [
        Incident(
            reference=f"BULK-{courthouse.pk}-{n}",
            courthouse=courthouse,
            county_id=courthouse.county_id,
            state_id=courthouse.county.state_id,
            **{**defaults, **fields},
        )
        for n in range(count)
    ]
    return Incident.objects.bulk_create(rows, batch_size=500)


def listed_ids(query):
    """What the incident list shows for a query string, in its order."""
    state = filter_incidents(QueryDict(query))
    assert state.valid, state.filterset.errors
    return list(state.incidents.values_list("id", flat=True))


def content_of(response):
    return b"".join(response.streaming_content)


def read_csv(content):
    """Rows as dicts, read the way pandas or R would: UTF-8, records may span lines."""
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))
