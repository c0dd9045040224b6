"""Erase the contact details of public reports closed 90 days ago or more.

Run it daily from a scheduler (README, "Reports from the public"); running it
twice changes nothing more.
"""

from django.core.management.base import BaseCommand

from incidents import services


class Command(BaseCommand):
    help = "Erase the contact details of reports accepted or rejected 90 days ago or more."

    def handle(self, *args, **options):
        erased = services.purge_report_contacts()
        self.stdout.write(f"Erased the contact details of {erased} report(s).")
