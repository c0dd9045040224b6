"""The documented limits of what the tracker accepts, in one place.

Forms, the import, the query-string filters and README all read these numbers,
so a value the entry form accepts can always be exported and imported again.
"""

import datetime

# No incident before this date is accepted (the tracker's data begins in 2017;
# 1990 leaves room for older reporting while refusing typos such as 0024-05-01).
EARLIEST_DATE = datetime.date(1990, 1, 1)

# The longest summary, in characters, that the form, the model and the import accept.
# The import's CSV field limit is derived from it (see imports.py).
SUMMARY_MAX_CHARS = 20_000
