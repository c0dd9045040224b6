"""Plausible synthetic incidents: the one generator behind the demo data,
`manage.py generate_incidents` and every benchmark in bench/.

Nothing here names a person: summaries are built from the incident's own fields.
Rows are plain dicts of model column values (attnames), so the same row can become
an Incident, a COPY line or a CSV line; bench/ loads a million of them with COPY.
"""

import bisect
import datetime

from .models import Incident, today_utc

FIRST_DATE = datetime.date(2017, 1, 1)

# Relative weights of each value.
CASE_TYPES = {
    "criminal": 45,
    "family": 14,
    "civil": 6,
    "housing": 4,
    "traffic": 10,
    "juvenile": 3,
    "immigration": 10,
    "other": 3,
    "unknown": 5,
}
OUTCOMES = {"arrested": 70, "attempted": 12, "observed": 12, "unknown": 6}
ROLES = {"defendant": 60, "victim": 8, "witness": 5, "litigant": 12, "companion": 6, "other": 3, "unknown": 6}
LOCATIONS = {"courtroom": 12, "inside": 34, "entrance": 18, "outside": 28, "unknown": 8}
AGENCIES = {"ice": 85, "cbp": 6, "other": 3, "unknown": 6}
WARRANTS = {"judicial": 4, "administrative": 30, "none": 26, "unknown": 40}
YNU = {"yes": 35, "no": 25, "unknown": 40}
FORCE = {"yes": 10, "no": 50, "unknown": 40}
STAFF_ASSISTED = {"yes": 6, "no": 50, "unknown": 44}
VERIFICATION = {"unverified": 40, "verified": 55, "disputed": 5}
SOURCES = {"court_record": 25, "attorney": 35, "news": 20, "community": 12, "government": 3, "other": 5}

# A combination never generated (case_type, person_role, location), so that a filter
# for it matches nothing at any size (the benchmarks' "no match" list page): such a
# row is moved inside the building.
NEVER = ("juvenile", "witness", "courtroom")

PLACES = {
    "courtroom": "in the courtroom",
    "inside": "in a hallway",
    "entrance": "at the entrance",
    "outside": "outside the building",
    "unknown": "at the courthouse",
}
ACTIONS = {
    "arrested": "arrested",
    "attempted": "tried to arrest",
    "observed": "were seen waiting for",
    "unknown": "approached",
}


class Weighted:
    """A weighted choice with one random number and a bisect (rng.choices is slower)."""

    def __init__(self, weights):
        self.values = list(weights)
        total, running, self.cumulative = sum(weights.values()), 0, []
        for value in self.values:
            running += weights[value]
            self.cumulative.append(running / total)

    def __call__(self, rng):
        return self.values[min(bisect.bisect(self.cumulative, rng.random()), len(self.values) - 1)]


PICK = {
    name: Weighted(weights)
    for name, weights in {
        "case_type": CASE_TYPES,
        "outcome": OUTCOMES,
        "person_role": ROLES,
        "location": LOCATIONS,
        "agency": AGENCIES,
        "plain_clothes": YNU,
        "agents_identified": YNU,
        "force_used": FORCE,
        "court_staff_assisted": STAFF_ASSISTED,
        "warrant": WARRANTS,
        "verification": VERIFICATION,
        "source_type": SOURCES,
    }.items()
}


def day_at(share, start, end, recent_bias=1.0):
    """The day a `share` (0..1) of the way through [start, end]; recent_bias > 1 favours later days."""
    return start + datetime.timedelta(days=int((end - start).days * share ** (1 / recent_bias)))


def summary_for(row):
    agents = "Plain-clothes agents" if row["plain_clothes"] == "yes" else "Agents"
    role = "person" if row["person_role"] == "unknown" else row["person_role"]
    return f"{agents} {ACTIONS[row['outcome']]} a {role} {PLACES[row['location']]} during a {row['case_type']} matter."


def _people(rng, outcome):
    if outcome == "arrested":
        return 1 + (rng.random() < 0.12) + (rng.random() < 0.03)
    return int(rng.random() < 0.5) if outcome == "unknown" else 0


def _summary(rng, row):
    """Mostly plain text; a few summaries test the CSV's quoting and formula escaping."""
    text, draw = summary_for(row), rng.random()
    if draw < 0.002:
        return "- " + text  # a spreadsheet would read it as a formula
    if draw < 0.027:
        return text[:-1] + ', "quoted" and\nspread over two lines.'
    return text


def incident_fields(rng, day, number=0):
    """Field values for one incident on `day` (without courthouse, place or reference)."""
    row = {name: pick(rng) for name, pick in PICK.items()}
    if (row["case_type"], row["person_role"], row["location"]) == NEVER:
        row["location"] = "inside"
    row["people_count"] = _people(rng, row["outcome"])
    row["date"], row["date_precision"] = day, "day"
    if rng.random() < 0.08:
        row["date"], row["date_precision"] = day.replace(day=1), "month"
    if row["source_type"] == "news":
        row["source_url"] = f"https://news.example.org/{day.year}/story-{number}"
    row["summary"] = _summary(rng, row)
    return row


class Generator:
    """Rows for the incident table, deterministic per (seed, row number).

    Dates run from `start` to `end` with recent years busier (`recent_bias`). With
    `in_date_order`, dates advance across the `count` rows of a load (a few weeks of
    jitter), as a tracker fills up: the table's physical order then follows the date,
    as in real data, and date-ordered scans of many rows (the export above all) read
    the table in order instead of at random. Courthouse popularity is skewed (a few
    busy courthouses, a long tail) unless each courthouse carries its own `weight`.
    """

    def __init__(self, courthouses, start=FIRST_DATE, end=None, recent_bias=1.4, retracted=0.0):
        self.courthouses = courthouses  # rows with id, county_id, state_id
        self.start, self.end = start, end or today_utc()
        self.recent_bias, self.retracted = recent_bias, retracted
        self.now = datetime.datetime.now(datetime.UTC)

    def rows(self, rng, first, count, load=None):
        """Rows numbered first .. first + count - 1; `load` is (first, count) of a whole
        load in date order (dates then advance across it), None for random dates."""
        for number in range(first, first + count):
            share = rng.random()
            if load:
                share = min(max((number - load[0] + 0.5) / load[1] + (share - 0.5) * 0.02, 0.0), 1.0)
            yield self.row(rng, number, share)

    def row(self, rng, number, share):
        courthouse = self.courthouses[int(len(self.courthouses) * rng.random() ** 2)]
        row = incident_fields(rng, day_at(share, self.start, self.end, self.recent_bias), number)
        row.update(courthouse_id=courthouse.id, county_id=courthouse.county_id, state_id=courthouse.state_id)
        row["created_at"] = min(
            datetime.datetime.combine(row["date"], datetime.time(9), datetime.UTC)
            + datetime.timedelta(days=int(rng.random() * 20), seconds=int(rng.random() * 28800)),
            self.now,
        )
        changed = rng.random() < 0.2
        row["updated_at"] = min(
            row["created_at"] + datetime.timedelta(days=int(rng.random() * 60) * changed), self.now
        )
        if rng.random() < self.retracted:
            row.update(status="retracted", retraction_reason="Duplicate of another report.")
        return row


def build_incidents(rng, courthouses, count, reference_prefix, start=FIRST_DATE, end=None, **extra):
    """`count` unsaved Incident objects spread over `courthouses` by their `weight`
    (default 1), each from its own `start` date and with its own `recent_bias`."""
    end = end or today_utc()
    weights = [getattr(c, "weight", 1) for c in courthouses]
    incidents = []
    for n in range(count):
        courthouse = rng.choices(courthouses, weights=weights)[0]
        share = rng.random()
        day = day_at(share, getattr(courthouse, "start", start), end, getattr(courthouse, "recent_bias", 1.0))
        fields = incident_fields(rng, day, n)
        incidents.append(
            Incident(
                reference=f"{reference_prefix}{n + 1:06d}",
                courthouse=courthouse,
                county_id=courthouse.county_id,
                state_id=courthouse.state_code,
                **fields,
                **extra,
            )
        )
    return incidents
