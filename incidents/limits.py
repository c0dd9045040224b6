"""The documented limits of what the tracker accepts, in one place.

Forms, the import, the query-string filters and README all read these numbers,
so a value the entry form accepts can always be exported and imported again.
"""

import datetime
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# No incident before this date is accepted (the tracker's data begins in 2017;
# 1990 leaves room for older reporting while refusing typos such as 0024-05-01).
EARLIEST_DATE = datetime.date(1990, 1, 1)

# The longest summary, in characters, that the form, the model and the import accept.
# The import's CSV field limit is derived from it (see imports.py).
SUMMARY_MAX_CHARS = 20_000

# Characters that reorder the text around them when displayed (embeddings, overrides,
# isolates and marks): in a name or a web address they can make one thing read as another.
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def no_bidi_controls(value):
    if BIDI_CONTROLS.search(value or ""):
        raise ValidationError(
            _("Remove the invisible text-direction characters (such as U+202E)."), code="bidi"
        )


def no_bidi_controls_in_host(url):
    try:
        host = urlsplit(url or "").netloc
    except ValueError:
        return  # the URL validator names that error
    no_bidi_controls(host)


# A public report (/report/): the longest description and the most reports one
# address may send in REPORT_WINDOW; contact details are erased this long after
# the report is closed (manage.py purge_report_contacts).
REPORT_DESCRIPTION_MAX_CHARS = 5_000
REPORTS_PER_WINDOW = 5
REPORT_WINDOW = datetime.timedelta(hours=1)
CONTACT_KEPT_AFTER_CLOSE = datetime.timedelta(days=90)
