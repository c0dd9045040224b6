"""Free-text search (`q=`): whole words of the summary, or part of the courthouse's name.

On PostgreSQL summaries are matched by full-text search on the GIN index
inc_summary_words (migration 0014), with the 'simple' configuration: it
lower-cases words and neither stems them nor drops stop words, so a Spanish
summary is found by its own words as an English one is. Every word of q must
be in the summary. SQLite keeps plain `icontains` for each word, which reads
every row and also finds parts of words.

A page asks for its newest matches. For a common word the date index finds
them in a few rows; for a rare one it would read the whole table, and the
planner cannot tell the two apart when the word is not among its most common
ones. So the rare case is settled first: up to RARE matching ids are read from
the GIN index, and when there are fewer the page asks for those ids only.
Whole words rather than prefixes, because the planner prices any prefix as
common and would then read the table to find a rare one's first ids.

Courthouse names are few: the matching courthouses are resolved first too, and
their incidents are named through their counties, so that inc_pub_county_date
can serve them.
"""

import re

from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db import connections
from django.db.models import Func, Q

from .models import Courthouse, Incident

CONFIG = "simple"
WORD = re.compile(r"[^\W_]")
# Fewer matches than this: the page reads them by id. More: the word is common
# enough for the date index to meet its newest matches early.
RARE = 200


class SummaryWords(Func):
    """The indexed expression of migration 0014."""

    function = "incident_summary_words"
    output_field = SearchVectorField()


def search_text(qs, value):
    courthouses = Courthouse.objects.using(qs.db).filter(name__icontains=value)
    if connections[qs.db].vendor != "postgresql":
        every_word = Q(*(Q(summary__icontains=word) for word in value.split()))
        return qs.filter(every_word | Q(courthouse__in=courthouses))
    pairs = list(courthouses.values_list("id", "county_id"))
    by_courthouse = Q(
        county_id__in={county for _, county in pairs}, courthouse_id__in=[pk for pk, _ in pairs]
    )
    if not WORD.search(value):  # punctuation only: no word to look for
        return qs.filter(by_courthouse)
    return qs.alias(summary_words=SummaryWords("summary")).filter(by_courthouse | summary_match(qs.db, value))


def summary_match(db, value):
    words = Q(summary_words=SearchQuery(value, config=CONFIG, search_type="plain"))
    rare = list(
        Incident.objects.using(db)
        .alias(summary_words=SummaryWords("summary"))
        .filter(words)
        .order_by()
        .values_list("id", flat=True)[:RARE]
    )
    return Q(id__in=rare) if len(rare) < RARE else words
