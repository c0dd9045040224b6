from django.core.management.base import BaseCommand

from incidents import docs


class Command(BaseCommand):
    help = "Rewrite docs/data-model.md and docs/csv.md from the code (tests/test_docs.py checks them)."

    def handle(self, *args, **options):
        docs.write()
        self.stdout.write(f"Wrote {', '.join(docs.documents())} in {docs.DOCS}.")
