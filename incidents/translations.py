"""The translation catalogues in locale/: reading them, and keeping them whole.

`manage.py update_translations` (make messages) runs makemessages over the Python
code, the templates and static/js with the options below; `--check` runs it on a
copy instead and names what it would add or drop. The tests fail on any string
the catalogue lacks, any entry left untranslated or fuzzy, and any English UI
string on a rendered Spanish page.
"""

import ast
import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings

DOMAINS = ("django", "djangojs")
# Not translated: collected static files, vendored libraries, the benchmark, the tests.
IGNORED = ("staticfiles", "static/vendor", "bench", "tests", ".venv")


@dataclass(frozen=True)
class Entry:
    context: str
    msgid: str
    plural: str
    translations: tuple
    fuzzy: bool

    @property
    def key(self):
        return (self.context, self.msgid, self.plural)

    @property
    def translated(self):
        return bool(self.translations) and all(self.translations)


def catalogue(language, domain="django", root=None):
    """Path of locale/<language>/LC_MESSAGES/<domain>.po."""
    return Path(root or settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / f"{domain}.po"


def entries(path):
    """Every active entry of a .po file but its header; obsolete (#~) entries are skipped."""
    found = [_entry(block) for block in Path(path).read_text(encoding="utf-8").split("\n\n")]
    return [entry for entry in found if entry is not None and entry.msgid]


def _entry(block):
    fields, fuzzy, current = {}, False, None
    for line in block.splitlines():
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith('"') and current:
            fields[current] += ast.literal_eval(line)
        elif line and not line.startswith("#"):
            current, _space, text = line.partition(" ")
            fields[current] = ast.literal_eval(text)
    if "msgid" not in fields:
        return None
    strings = tuple(value for name, value in sorted(fields.items()) if name.startswith("msgstr"))
    return Entry(fields.get("msgctxt", ""), fields["msgid"], fields.get("msgid_plural", ""), strings, fuzzy)


def languages():
    """The languages with a catalogue: every one of settings.LANGUAGES but the default."""
    return [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def update(base=None):
    """makemessages for every language and domain, over the sources in `base` (default: this
    project), writing into its locale/."""
    base = Path(base or settings.BASE_DIR)
    with override_settings(LOCALE_PATHS=[str(base / "locale")]), _in(base):
        for domain in DOMAINS:
            call_command(
                "makemessages",
                locale=languages(),
                domain=domain,
                no_location=True,
                no_obsolete=True,
                ignore_patterns=list(IGNORED),
                verbosity=0,
            )


def differences():
    """{(language, domain): (strings makemessages would add, entries it would drop)}, empty when whole.

    makemessages runs on a copy of the sources: it files each string under the locale
    directory nearest to it, so a copy of locale/ alone would not be written to."""
    found = {}
    skip = shutil.ignore_patterns(*IGNORED, ".*", "__pycache__", "*.mo", "*.pyc", "db.sqlite3*")
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copytree(settings.BASE_DIR, scratch, ignore=skip, dirs_exist_ok=True)
        update(scratch)
        for language in languages():
            for domain in DOMAINS:
                before = {e.key for e in entries(catalogue(language, domain))}
                after = {e.key for e in entries(catalogue(language, domain, Path(scratch) / "locale"))}
                if before != after:
                    found[(language, domain)] = (sorted(after - before), sorted(before - after))
    return found


@contextlib.contextmanager
def _in(directory):
    previous = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous)
