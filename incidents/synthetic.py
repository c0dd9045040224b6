"""Plausible synthetic incidents, shared by the demo loader and the benchmark generator.

Nothing here names a person: summaries are built from the incident's own fields.
"""

import datetime

from .models import Incident, today_utc

# Relative weights; the rest of each field falls back on the choice list.
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
VERIFICATION = {"unverified": 40, "verified": 55, "disputed": 5}
SOURCES = {"court_record": 25, "attorney": 35, "news": 20, "community": 12, "government": 3, "other": 5}

PLACES = {
    "courtroom": "in the courtroom",
    "inside": "in a hallway",
    "entrance": "at the entrance",
    "outside": "outside the building",
    "unknown": "at the courthouse",
}


def pick(rng, weights):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def random_date(rng, start, end, recent_bias=1.0):
    """A date in [start, end]; recent_bias > 1 favours later dates."""
    span = (end - start).days
    return start + datetime.timedelta(days=int(span * rng.random() ** (1 / recent_bias)))


def summary_for(row):
    action = {
        "arrested": "arrested",
        "attempted": "tried to arrest",
        "observed": "were seen waiting for",
        "unknown": "approached",
    }[row["outcome"]]
    agents = "Plain-clothes agents" if row["plain_clothes"] == "yes" else "Agents"
    role = "person" if row["person_role"] == "unknown" else row["person_role"]
    return f"{agents} {action} a {role} {PLACES[row['location']]} during a {row['case_type']} matter."


def incident_fields(rng, start, end, recent_bias=1.0):
    """Field values for one incident (without courthouse or reference)."""
    outcome = pick(rng, OUTCOMES)
    people = {
        "arrested": 1 + (rng.random() < 0.12) + (rng.random() < 0.03),
        "attempted": 0,
        "observed": 0,
        "unknown": rng.choice([0, 1]),
    }[outcome]
    date = random_date(rng, start, end, recent_bias)
    precision = "month" if rng.random() < 0.08 else "day"
    if precision == "month":
        date = date.replace(day=1)
    row = dict(
        date=date,
        date_precision=precision,
        case_type=pick(rng, CASE_TYPES),
        outcome=outcome,
        people_count=people,
        person_role=pick(rng, ROLES),
        location=pick(rng, LOCATIONS),
        agency=pick(rng, AGENCIES),
        plain_clothes=pick(rng, YNU),
        agents_identified=pick(rng, YNU),
        force_used=pick(rng, {"yes": 10, "no": 50, "unknown": 40}),
        court_staff_assisted=pick(rng, {"yes": 6, "no": 50, "unknown": 44}),
        warrant=pick(rng, WARRANTS),
        verification=pick(rng, VERIFICATION),
        source_type=pick(rng, SOURCES),
    )
    row["summary"] = summary_for(row)
    return row


def build_incidents(
    rng, courthouses, count, reference_prefix, start=datetime.date(2017, 1, 1), end=None, **extra
):
    """`count` unsaved Incident objects spread over `courthouses`."""
    end = end or today_utc()
    weights = [getattr(c, "weight", 1) for c in courthouses]
    incidents = []
    for n in range(count):
        courthouse = rng.choices(courthouses, weights=weights)[0]
        fields = incident_fields(
            rng, getattr(courthouse, "start", start), end, getattr(courthouse, "recent_bias", 1.0)
        )
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
