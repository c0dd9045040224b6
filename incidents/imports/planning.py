"""Planning: what each checked row does (create, update or nothing), and its courthouse.

`events()` turns rows into ("create" | "update", Row) pairs. Between them it
yields the database work the plan needs as callables (looking up the references
of the next batch of rows), which the writer runs when it may: on PostgreSQL no
query can run while a COPY is open.
"""

import itertools
from dataclasses import dataclass

from django.db import connection
from django.utils.translation import gettext as _

from ..models import County, Courthouse, Incident, State, court_type_from_name
from .reading import CHOICE_COLUMNS
from .report import Place

BATCH = 2000
CREATE, UPDATE = "create", "update"
REVIEW = "incidents.review_incident"  # the permission of the review page, which sets verification
DEFAULT_VERIFICATION = Incident._meta.get_field("verification").get_default()
IMPORTED_FIELDS = (*CHOICE_COLUMNS, "date", "people_count", "source_url", "summary")
# What decides whether a row changes its incident, and what an update writes.
COMPARED = (*IMPORTED_FIELDS, "courthouse_id")
UPDATED = (*COMPARED, "county_id", "state_id")


@dataclass
class Known:
    """What the database already holds that rows name: states, counties, courthouses."""

    states: set
    counties: dict  # FIPS -> state code
    courthouses: dict  # Place -> [(id, county FIPS)]

    @classmethod
    def load(cls):
        courthouses = {}
        for pk, name, city, county, state in Courthouse.objects.values_list(
            "pk", "name", "city", "county_id", "county__state_id"
        ):
            courthouses.setdefault(Place(name, city, state), []).append((pk, county))
        return cls(
            states=set(State.objects.values_list("code", flat=True)),
            counties=dict(County.objects.values_list("fips", "state_id")),
            courthouses=courthouses,
        )


def may_review(user):
    """The command without --user runs with the server's own authority."""
    return user is None or user.has_perm(REVIEW)


def events(rows, planner, guess_new=False):
    """(CREATE or UPDATE, Row) for each row that changes something, lookups in between.

    With guess_new, a first batch whose references are all new is taken to mean
    a file of new incidents, and no later batch is looked up; the writer must then
    notice a reference that exists after all (the database's unique constraint does).
    """
    look = True
    for batch in _batches(rows):
        found = {}
        if look:
            yield lambda batch=batch, found=found: found.update(
                existing(row.fields["reference"] for row in batch)
            )
        for row in batch:
            kind = planner(row, found.get(row.fields["reference"]))
            if kind:
                yield kind, row
        look = not (guess_new and not found)


def _batches(rows):
    rows = iter(rows)
    while batch := list(itertools.islice(rows, BATCH)):
        yield batch


class Planner:
    """Decides what each valid row does; matches and makes courthouses.

    A new courthouse is made (not saved) once, for the first row naming it, and
    kept in report.new_courthouses. Its court type is that row's, else its name's;
    a row's court type says nothing about a courthouse that exists.
    """

    def __init__(self, known, report, may_review):
        self.known, self.report, self.may_review = known, report, may_review
        self.first_lines = {}  # Place -> line of the row that made a new courthouse
        self.matched = {}  # (Place, fips) -> courthouse id, or None for a new one

    def __call__(self, row, current):
        """CREATE, UPDATE or None, for a row and the values of its incident (None: new)."""
        fields, line = row.fields, row.line
        courthouse_id = self.matched.get((row.place, row.fips), False)
        if courthouse_id is False:
            courthouse_id = self.courthouse(line, row.place, row.fips, row.court_type)
            if courthouse_id is False:
                return None
            self.matched[row.place, row.fips] = courthouse_id
        fields.update(courthouse_id=courthouse_id, county_id=row.fips, state_id=row.place.state)
        if not self.verification_allowed(line, fields, current):
            return None
        if current is None:
            self.report.create(line, fields, row.place)
            return CREATE
        changed = [name for name in COMPARED if current[name] != fields[name]]
        if not changed:
            self.report.unchanged += 1
            return None
        fields["pk"] = current["id"]
        self.report.update(line, fields, [name.removesuffix("_id") for name in changed])
        return UPDATE

    def verification_allowed(self, line, fields, current):
        before = current["verification"] if current else DEFAULT_VERIFICATION
        if self.may_review or fields["verification"] == before:
            return True
        self.report.error(
            line,
            _(
                "only a reviewer may set the verification; this row would change it from %(before)s to %(after)s"
            )
            % {"before": before, "after": fields["verification"]},
            column="verification",
        )
        return False

    def courthouse(self, line, place, fips, court_type):
        """The matched courthouse's id (None for a new one), or False after an error."""
        matches = self.known.courthouses.get(place)
        if matches:
            for pk, county in matches:
                if county == fips:
                    return pk
            self.county_error(
                line, place, _("%(county)s, not %(fips)s") % {"county": matches[0][1], "fips": fips}
            )
            return False
        new = self.report.new_courthouses
        if place not in new:
            new[place] = new_courthouse(place, fips, court_type)
            self.first_lines[place] = line
        if new[place].county_id != fips:
            where = _("%(county)s on line %(line)d") % {
                "county": new[place].county_id,
                "line": self.first_lines[place],
            }
            self.county_error(line, place, where)
            return False
        return None

    def county_error(self, line, place, where):
        message = _("%(name)s (%(city)s, %(state)s) is in county %(where)s") % {
            "name": place.name,
            "city": place.city,
            "state": place.state,
            "where": where,
        }
        self.report.error(line, message, column="county_fips")


def new_courthouse(place, fips, court_type):
    """An unsaved courthouse; without a court type (an empty value, a file from before the
    column) the name decides."""
    court_type = court_type or court_type_from_name(place.name)
    return Courthouse(name=place.name, city=place.city, county_id=fips, court_type=court_type)


def existing(references):
    """{reference: {column: value}} of the incidents with these references."""
    references = [reference for reference in references if reference]
    columns = ("id", "reference", *COMPARED)
    if not references:
        return {}
    if connection.vendor == "postgresql":
        # One query for the whole batch: `= ANY(array)` takes any number of values.
        quote = connection.ops.quote_name
        sql = (
            f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(Incident._meta.db_table)} "
            f"WHERE {quote('reference')} = ANY(%s)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [references])
            found = [dict(zip(columns, row)) for row in cursor.fetchall()]
    else:
        size, found = in_size(), []
        for start in range(0, len(references), size):
            found += Incident.objects.filter(reference__in=references[start : start + size]).values(*columns)
    return {values["reference"]: values for values in found}


def in_size():
    """How many values one `IN (...)` may take on this database."""
    return min(BATCH, connection.features.max_query_params or BATCH)
