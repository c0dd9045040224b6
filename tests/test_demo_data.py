import datetime

import pytest
from django.core.management import call_command

from incidents.models import Courthouse, Incident, PolicyEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("load_demo_data", verbosity=0)


def test_it_loads_a_realistic_demo(demo):
    demo_rows = Incident.objects.demo()
    assert demo_rows.count() >= 1000
    assert Courthouse.objects.filter(is_demo=True).values("county__state").distinct().count() >= 8
    assert Courthouse.objects.filter(name="26 Federal Plaza Immigration Court").exists()
    assert demo_rows.filter(date__gt=datetime.date.today()).count() == 0
    assert PolicyEvent.objects.filter(date=datetime.date(2019, 4, 17)).exists()


def test_it_sets_court_types_and_ties_state_policy_events_to_their_state(demo):
    types = dict(Courthouse.objects.filter(is_demo=True).values_list("name", "court_type"))
    immigration = {name for name, court_type in types.items() if court_type == "immigration"}
    assert immigration == {name for name in types if "Immigration Court" in name}
    assert len(immigration) >= 5 and len(types) - len(immigration) >= 5
    assert PolicyEvent.objects.get(date=datetime.date(2019, 4, 17)).state_id == "NY"
    assert PolicyEvent.objects.get(date=datetime.date(2018, 1, 10)).state_id is None  # federal


def test_it_includes_the_two_incidents_reported_in_2017(demo):
    brooklyn = Incident.objects.get(
        date=datetime.date(2017, 11, 28), courthouse__name="Brooklyn Criminal Court"
    )
    el_paso = Incident.objects.get(
        date=datetime.date(2017, 2, 9), courthouse__name="El Paso County Courthouse"
    )
    assert (brooklyn.person_role, brooklyn.case_type) == ("defendant", "criminal")
    assert (el_paso.person_role, el_paso.state_id) == ("victim", "TX")


def test_loading_twice_changes_nothing(demo):
    before = (Incident.objects.count(), Courthouse.objects.count(), PolicyEvent.objects.count())
    call_command("load_demo_data", verbosity=0)
    assert (Incident.objects.count(), Courthouse.objects.count(), PolicyEvent.objects.count()) == before


def test_clear_removes_every_demo_row_and_keeps_real_ones(demo):
    from .factories import IncidentFactory

    real = IncidentFactory()
    call_command("load_demo_data", "--clear", verbosity=0)
    assert list(Incident.objects.all()) == [real]
    assert not PolicyEvent.objects.filter(is_demo=True).exists()


def test_every_page_says_demo_while_demo_rows_exist(client, demo):
    assert "Demo data." in client.get("/").content.decode()
    call_command("load_demo_data", "--clear", verbosity=0)
    assert "Demo data." not in client.get("/").content.decode()


def test_generate_incidents_inserts_the_count_asked(capsys):
    call_command("generate_incidents", "--count", "1200", "--seed", "4", "--courthouses", "5")
    assert Incident.objects.count() == 1200
    assert "1,200/1,200" in capsys.readouterr().err


def test_every_demo_courthouse_is_a_dot_on_the_map_linking_to_its_page(client, demo):
    import json
    import re

    located = Courthouse.objects.filter(is_demo=True, latitude__isnull=False, longitude__isnull=False)
    assert located.count() == Courthouse.objects.filter(is_demo=True).count() >= 40
    Courthouse.objects.filter(is_demo=True).update(latitude=None, longitude=None)  # an older demo
    call_command("load_demo_data", verbosity=0)
    brooklyn = Courthouse.objects.get(name="Brooklyn Criminal Court")
    assert (round(float(brooklyn.latitude)), round(float(brooklyn.longitude))) == (41, -74)
    content = client.get("/").content.decode()
    figure = json.loads(re.search(r'id="chart-map-data"[^>]*>(.*?)</script>', content, re.S).group(1))
    dots = [t for t in figure["data"] if t.get("meta") == "courthouses"]
    links = {url.split("?")[0] for t in dots for url in t["customdata"]}
    assert links == {f"/courthouses/{c.slug}/" for c in located}
    assert client.get(brooklyn.get_absolute_url()).status_code == 200
