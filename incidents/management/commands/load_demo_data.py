import datetime
import random
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from incidents import demo
from incidents.cache import bump_data_version
from incidents.models import Courthouse, Incident, PolicyEvent, court_type_from_name
from incidents.synthetic import build_incidents

SYNTHETIC_COUNT = 1500
SEED = 2017


class Command(BaseCommand):
    help = "Load the demo data set (about 1,500 incidents); --clear removes every demo row."

    def add_arguments(self, parser):
        parser.add_argument("--clear", action="store_true", help="remove every demo row")
        parser.add_argument("--if-empty", action="store_true", help="only when no incident exists")

    def handle(self, *args, clear=False, if_empty=False, **options):
        if clear:
            self.clear()
        elif if_empty and Incident.objects.exists():
            self.stdout.write("Incidents exist already; demo data not loaded.")
        else:
            self.load()

    @transaction.atomic
    def clear(self):
        incidents, _ = Incident.objects.demo().delete()
        events, _ = PolicyEvent.objects.filter(is_demo=True).delete()
        courthouses, _ = Courthouse.objects.filter(is_demo=True, incidents__isnull=True).delete()
        bump_data_version()
        self.stdout.write(
            f"Removed {incidents} demo incidents, {courthouses} courthouses, {events} policy events."
        )

    @transaction.atomic
    def load(self):
        courthouses = self.courthouses()
        created = self.incidents(courthouses)
        for date, state, title, url in demo.POLICY_EVENTS:
            PolicyEvent.objects.get_or_create(
                date=date, title=title, defaults=dict(state_id=state, url=url, is_demo=True)
            )
        bump_data_version()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data: {len(courthouses)} courthouses, {created} incidents created "
                f"({Incident.objects.demo().count()} demo incidents in all)."
            )
        )

    def courthouses(self):
        by_name = {}
        for name, address, city, fips, weight, first_year, *place in demo.COURTHOUSES:
            courthouse = Courthouse.objects.filter(name=name, city=city).first()
            if courthouse is None:
                courthouse = Courthouse(
                    name=name,
                    address=address,
                    city=city,
                    county_id=fips,
                    court_type=court_type_from_name(name),
                    is_demo=True,
                )
            if courthouse.is_demo and courthouse.latitude is None:  # also a demo loaded without them
                courthouse.latitude, courthouse.longitude = (Decimal(str(n)) for n in place)
                courthouse.full_clean()
                courthouse.save()
            courthouse.weight, courthouse.recent_bias = weight, 1.6
            courthouse.start = datetime.date(first_year, 1, 1)
            courthouse.state_code = courthouse.county.state_id
            by_name[name] = courthouse
        return by_name

    def incidents(self, courthouses):
        rng = random.Random(SEED)
        new = build_incidents(rng, list(courthouses.values()), SYNTHETIC_COUNT, "DEMO-", is_demo=True)
        for fields in demo.REPORTED_2017:
            courthouse = courthouses[fields["courthouse"]]
            new.append(
                Incident(
                    **{**fields, "courthouse": courthouse},
                    county_id=courthouse.county_id,
                    state_id=courthouse.state_code,
                    is_demo=True,
                )
            )
        existing = set(
            Incident.objects.filter(reference__in=[i.reference for i in new]).values_list(
                "reference", flat=True
            )
        )
        new = [i for i in new if i.reference not in existing]
        for incident in new:
            incident.full_clean(exclude=["courthouse"])
        bulk_create_with_history(new, Incident, batch_size=500)
        return len(new)
