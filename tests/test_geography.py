import pytest

from incidents.models import County, State

pytestmark = pytest.mark.django_db


def test_it_loads_every_state_and_territory():
    assert State.objects.count() == 56
    assert set(State.objects.values_list("code", flat=True)) >= {"NY", "DC", "PR", "GU", "VI", "AS", "MP"}


def test_it_loads_every_county_equivalent():
    assert County.objects.count() == 3233
    assert County.objects.filter(state_id="PR").count() == 78


def test_kings_county_is_in_new_york():
    kings = County.objects.get(fips="36047")
    assert str(kings) == "Kings County, NY"


def test_every_county_fips_starts_with_its_state_fips():
    mismatched = [
        c.fips for c in County.objects.select_related("state") if not c.fips.startswith(c.state.fips)
    ]
    assert mismatched == []


def test_names_keep_their_accents():
    assert County.objects.get(fips="35013").name == "Doña Ana County"
