from django.core.management.base import BaseCommand, CommandError

from incidents import translations


class Command(BaseCommand):
    help = (
        "Add every new translatable string (Python, templates, static/js) to locale/*/LC_MESSAGES/*.po "
        "with an empty translation, and drop unused ones; --check only says what that would change."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="change nothing; exit non-zero if incomplete"
        )

    def handle(self, *args, check=False, **options):
        if not check:
            translations.update()
            self.stdout.write(
                "Updated the catalogues; translate the new empty entries, then make compilemessages."
            )
            return
        found = translations.differences()
        for (language, domain), (added, dropped) in found.items():
            for _context, msgid, _plural in added:
                self.stdout.write(f"{language}/{domain}: missing {msgid!r}")
            for _context, msgid, _plural in dropped:
                self.stdout.write(f"{language}/{domain}: no longer used {msgid!r}")
        if found:
            raise CommandError("The catalogues are out of date: run `make messages` and translate.")
        self.stdout.write("The catalogues hold every translatable string.")
