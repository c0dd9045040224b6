import codecs
import os
import time
from contextlib import closing

from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict

from incidents.export import csv_chunks
from incidents.filters import (
    ChoicesFilter,
    IncidentFilterSet,
    MultipleValueFilter,
    filter_incidents,
)

REPEATABLE = (ChoicesFilter, MultipleValueFilter)


def option_name(param):
    return "--" + param.replace("_", "-")


def option_help(param, repeatable):
    if param == "ordering":
        # argparse would read "--ordering -date" as two options.
        return "date, updated_at or people_count; descending as --ordering=-date"
    return f"the {param} filter, as on the web{' (repeatable)' if repeatable else ''}"


class Command(BaseCommand):
    help = (
        "Write the CSV export of the incidents matching the filters: the same bytes as "
        "/incidents/export.csv with the same filters. Progress goes to stderr."
    )

    def add_arguments(self, parser):
        for name, spec in IncidentFilterSet.base_filters.items():
            repeatable = isinstance(spec, REPEATABLE)
            parser.add_argument(
                option_name(name),
                dest=name,
                metavar=name.upper(),
                action="append" if repeatable else "store",
                help=option_help(name, repeatable),
            )
        parser.add_argument(
            "--excel",
            action="store_true",
            help="start with a byte-order mark, for Excel",
        )
        parser.add_argument(
            "-o",
            "--output",
            default="-",
            help="file to write (default: standard output)",
        )

    def handle(self, *args, output, excel, **options):
        state = filter_incidents(self.filter_params(options))
        incidents = state.incidents
        if not state.valid:
            raise CommandError(
                "; ".join(
                    f"{option_name(name)}: {' '.join(str(m) for m in messages)}"
                    for name, messages in state.filterset.errors.items()
                )
            )
        total = incidents.count()
        if output == "-":
            self.write(csv_chunks(incidents, excel=excel), self.binary_stdout(), total)
            self.stderr.write(f"Wrote {total:,} incidents.")
            return
        try:
            with open(output, "wb") as out:
                self.write(csv_chunks(incidents, excel=excel), out, total)
        except BaseException:
            # A half-written file looks like a complete one; leave none behind.
            if os.path.exists(output):
                os.remove(output)
            raise
        self.stderr.write(f"Wrote {total:,} incidents to {output}.")

    def filter_params(self, options):
        params = QueryDict(mutable=True)
        for name in IncidentFilterSet.base_filters:
            value = options.get(name)
            if value is not None:
                params.setlist(name, value if isinstance(value, list) else [value])
        return params

    def write(self, chunks, out, total):
        written, started = 0, time.monotonic()
        shown = started
        with closing(chunks):
            for chunk in chunks:
                out.write(chunk)
                written += len(chunk)
                if time.monotonic() - shown >= 1:
                    shown = time.monotonic()
                    self.stderr.write(
                        f"{written / 1e6:,.1f} MB of {total:,} incidents, {shown - started:,.0f} s"
                    )
        out.flush()

    def binary_stdout(self):
        """The bytes of standard output; a text stream (call_command(stdout=...)) gets decoded text."""
        stream = self.stdout._out
        if hasattr(stream, "buffer"):
            return stream.buffer
        return _TextSink(stream)


class _TextSink:
    def __init__(self, stream):
        self.stream, self.decoder = stream, codecs.getincrementaldecoder("utf-8")()

    def write(self, data):
        self.stream.write(self.decoder.decode(data))

    def flush(self):
        self.stream.write(self.decoder.decode(b"", final=True))
        self.stream.flush()
