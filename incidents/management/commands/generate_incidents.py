import random
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from incidents.cache import bump_data_version
from incidents.models import County, Courthouse, Incident
from incidents.synthetic import build_incidents

BATCH = 5000


class Command(BaseCommand):
    help = "Insert N synthetic incidents for benchmarks (batched; no history rows)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--courthouses",
            type=int,
            default=200,
            help="make sure at least this many courthouses exist (synthetic ones are added)",
        )

    def handle(self, *args, count, seed, courthouses, **options):
        if count < 0:
            raise CommandError("--count must be 0 or more")
        rng = random.Random(seed)
        pool = self.courthouse_pool(rng, courthouses)
        prefix = f"GEN-{seed}-{rng.getrandbits(32):08x}-"
        started, done = time.monotonic(), 0
        while done < count:
            size = min(BATCH, count - done)
            batch = build_incidents(rng, pool, size, prefix)
            for n, incident in enumerate(batch):
                incident.reference = f"{prefix}{done + n + 1:07d}"
            with transaction.atomic():
                Incident.objects.bulk_create(batch, batch_size=size)
            done += size
            rate = done / max(time.monotonic() - started, 1e-6)
            sys.stderr.write(f"\r{done:,}/{count:,} incidents ({rate:,.0f}/s)")
        sys.stderr.write("\n")
        bump_data_version()
        self.stdout.write(f"Created {count:,} incidents over {len(pool)} courthouses.")

    def courthouse_pool(self, rng, wanted):
        missing = wanted - Courthouse.objects.count()
        if missing > 0:
            counties = list(County.objects.values_list("fips", "name"))
            for n in range(missing):
                fips, name = rng.choice(counties)
                Courthouse.objects.create(
                    name=f"{name} Courthouse {n + 1}",
                    city=name.split(" ")[0],
                    county_id=fips,
                    slug=f"synthetic-{fips}-{n + 1}-{rng.getrandbits(24):06x}",
                )
        pool = list(Courthouse.objects.select_related("county"))
        for courthouse in pool:
            courthouse.state_code = courthouse.county.state_id
        return pool
