"""The one synthetic generator (incidents/synthetic.py) keeps the model's rules."""

import datetime
import random
from types import SimpleNamespace

from incidents import synthetic

TODAY = datetime.date(2026, 6, 30)
COURTHOUSES = [SimpleNamespace(id=n, county_id=f"360{n:02d}", state_id="NY") for n in range(1, 40)]


def generated(count=3000, **options):
    generator = synthetic.Generator(COURTHOUSES, end=TODAY, **options)
    return list(generator.rows(random.Random(5), 1, count, load=(1, count)))


def test_people_taken_agree_with_the_outcome():
    for row in generated():
        people, outcome = row["people_count"], row["outcome"]
        assert (outcome != "arrested" or people >= 1) and (
            outcome not in ("attempted", "observed") or people == 0
        )


def test_dates_stay_in_range_and_month_dates_fall_on_the_first():
    rows = generated()
    assert all(synthetic.FIRST_DATE <= row["date"] <= TODAY for row in rows)
    assert all(row["date"].day == 1 for row in rows if row["date_precision"] == "month")
    assert any(row["date_precision"] == "month" for row in rows)


def test_a_load_in_date_order_advances_through_the_dates():
    dates = [row["date"] for row in generated()]
    assert dates[:300] and max(dates[:300]) < min(dates[-300:])


def test_the_never_generated_combination_never_appears():
    rows = generated(20_000)
    assert not [r for r in rows if (r["case_type"], r["person_role"], r["location"]) == synthetic.NEVER]


def test_place_comes_from_the_courthouse_and_retraction_only_when_asked():
    places = {c.id: (c.county_id, c.state_id) for c in COURTHOUSES}
    rows = generated(retracted=0.05)
    assert all(places[r["courthouse_id"]] == (r["county_id"], r["state_id"]) for r in rows)
    assert any(r.get("status") == "retracted" for r in rows)
    assert not any("status" in r for r in generated())
