"""Short dates in the page's language: "30 Nov 2026" in English, "30 nov 2026" in Spanish.

The format strings are Django's date format letters, translated in the catalogue:
Spanish writes a month's abbreviation in lower case ("b"), English capitalised ("M").
"""

from django.utils.formats import date_format
from django.utils.translation import pgettext


def short_date(value):
    """ "30 Nov 2026" (English), "30 nov 2026" (Spanish)."""
    # Translators: Django's date format letters; "b" writes the month's abbreviation in lower case.
    return date_format(value, pgettext("date format: 30 Nov 2026", "j M Y"))


def short_month(value):
    """ "Nov 2026" (English), "nov 2026" (Spanish): a month in tables and the stats' labels."""
    # Translators: Django's date format letters; "b" writes the month's abbreviation in lower case.
    return date_format(value, pgettext("date format: Nov 2026", "M Y"))
