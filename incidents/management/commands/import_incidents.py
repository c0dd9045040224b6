import os
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from incidents import services
from incidents.imports import check_size


class Command(BaseCommand):
    help = (
        "Import incidents from a CSV file in the export's format, or any of its columns that "
        "include date, state, courthouse and outcome (docs/csv.md). Every row is validated "
        "first; nothing is written unless the whole file is valid."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the CSV file")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="validate and report what would be created and updated; write nothing",
        )
        parser.add_argument(
            "--create-courthouses",
            action="store_true",
            help="create the courthouses that match no known one (listed in the output); "
            "without it, such a courthouse is an error naming the closest known ones",
        )
        parser.add_argument(
            "--user",
            help="username recorded as the author of the changes (default: none)",
        )

    def handle(self, *args, file, dry_run, create_courthouses, user, **options):
        author = self.author(user)
        started = time.monotonic()
        with self.open(file) as handle:  # read as it is imported, never whole
            report = services.import_incidents(
                handle,
                user=author,
                dry_run=dry_run,
                create_courthouses=create_courthouses,
                progress=self.progress,
            )
        for line in report.error_lines:
            self.stderr.write(line)
        if report.creatable_courthouses:
            self.stderr.write("To create these courthouses, run again with --create-courthouses:")
        for place in report.creatable_courthouses or report.new_courthouses:
            self.stderr.write(f"  {place.name} ({place.city}, {place.state})")
        if report.error_count:
            raise CommandError(f"{report.error_count:,} errors in {file}; nothing was imported.")
        elapsed = time.monotonic() - started
        prefix = "Dry run, nothing written: " if dry_run else "Imported "
        self.stdout.write(f"{prefix}{report.summary()} ({elapsed:.1f} s).")

    def open(self, path):
        try:
            too_big = check_size(os.path.getsize(path))
            if too_big:
                raise CommandError(f"{path}: {too_big}")
            return open(path, "rb")
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc

    def author(self, username):
        if not username:
            return None
        try:
            return get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"no user named {username!r}") from exc

    def progress(self, message):
        self.stderr.write(message)
        self.stderr.flush()
