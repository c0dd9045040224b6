from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from incidents import releases


class Command(BaseCommand):
    help = (
        "Write a numbered, immutable release of the public data (the full CSV export, "
        "datapackage.json and SHA256SUMS) into RELEASES_DIR, served at /data/releases/<number>/."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--site-url",
            default=settings.SITE_URL,
            help="the site's public address, named by the citation and the data package "
            "(default: SITE_URL, e.g. https://tracker.example.org/)",
        )
        parser.add_argument(
            "--number", help="the release number (default: the next of this month, as 2026.11.1)"
        )

    def handle(self, *args, site_url, number, **options):
        if not site_url.startswith(("https://", "http://")):
            raise CommandError(
                "Set SITE_URL (or pass --site-url) to the site's public address, as https://…/."
            )
        home = site_url.rstrip("/") + "/"
        try:
            release = releases.publish(home=home, number=number)
        except releases.ReleaseError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Published release {release.number} in {release.folder}: {release.incidents:,} incidents, "
            f"{release.bytes:,} bytes, sha256 {release.sha256}"
        )
        self.stdout.write(f"Cite it as: {release.citation(f'{home}data/releases/{release.number}/')}")
