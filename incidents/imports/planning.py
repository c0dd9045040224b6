"""Planning: what each checked row does (create, update or nothing), and its courthouse.

`events()` turns rows into ("create" | "update", Row) pairs. Between them it
yields the database work the plan needs as callables (looking up the references
of the next batch of rows), which the writer runs when it may: on PostgreSQL no
query can run while a COPY is open.
"""

import difflib
import functools
import itertools
from dataclasses import dataclass, field

from django.db import connection
from django.utils.translation import gettext as _

from ..models import STAFF_ONLY_FIELDS, County, Courthouse, Incident, State, court_type_from_name
from .reading import CHOICE_COLUMNS, rule_errors
from .report import Change, Place

BATCH = 2000
CREATE, UPDATE = "create", "update"
REVIEW = "incidents.review_incident"  # the permission of the review page, which sets verification
DEFAULT_VERIFICATION = Incident._meta.get_field("verification").get_default()
IMPORTED_FIELDS = (*CHOICE_COLUMNS, "date", "people_count", "source_url", "summary", *STAFF_ONLY_FIELDS)
# What decides whether a row changes its incident, and what an update writes.
COMPARED = (*IMPORTED_FIELDS, "courthouse_id")
UPDATED = (*COMPARED, "county_id", "state_id")
SUGGESTIONS = 3  # closest names offered for a courthouse that does not match


@dataclass
class Known:
    """What the database already holds that rows name: states, counties, courthouses."""

    states: set
    counties: dict  # FIPS -> state code
    courthouses: dict  # Place -> [(id, county FIPS)]
    by_name: dict = field(default_factory=dict)  # (name, state) -> [(id, county FIPS, city)]

    @classmethod
    def load(cls):
        known = cls(
            states=set(State.objects.values_list("code", flat=True)),
            counties=dict(County.objects.values_list("fips", "state_id")),
            courthouses={},
        )
        for pk, name, city, county, state in Courthouse.objects.values_list(
            "pk", "name", "city", "county_id", "county__state_id"
        ):
            known.courthouses.setdefault(Place(name, city, state), []).append((pk, county))
            known.by_name.setdefault((name, state), []).append((pk, county, city))
        return known

    def candidates(self, place, fips):
        """[(id, county)] of the courthouses a row may mean: by name and city, or by name alone
        when the row has no city; only those in its county when it names one that has any."""
        if place.city:
            found = self.courthouses.get(place, [])
        else:
            found = [(pk, county) for pk, county, _ in self.by_name.get((place.name, place.state), [])]
        return [match for match in found if match[1] == fips] or found

    @functools.cached_property
    def labels(self):
        """{id: "Name (City)"} of the known courthouses."""
        return {pk: f"{name} ({city})" for (name, _), rows in self.by_name.items() for pk, _, city in rows}

    def closest(self, place):
        """Up to SUGGESTIONS known courthouses of the place's state with the closest names."""
        names = {}
        for (name, state), rows in self.by_name.items():
            if state == place.state:
                names.setdefault(name.lower(), []).extend(f"{name} ({city})" for _, _, city in rows)
        close = difflib.get_close_matches(place.name.lower(), names, SUGGESTIONS, cutoff=0.6)
        return [label for name in close for label in names[name]][:SUGGESTIONS]


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

    A courthouse that matches no known one is an error naming the closest ones,
    unless `create_courthouses`: then it is made (not saved) once, for the first
    row naming it, and kept in report.new_courthouses. Its court type is that
    row's, else its name's; a row's court type says nothing about a courthouse
    that exists. A column the file lacks keeps an updated incident's value.
    """

    def __init__(self, known, report, may_review, create_courthouses=False, scope=None):
        self.known, self.report, self.may_review = known, report, may_review
        self.create_courthouses = create_courthouses
        self.scope = scope  # permissions.Scope of the importer; None: anywhere
        self.first_lines = {}  # Place -> line of the row that made a new courthouse
        self.matched = {}  # (Place, fips) -> (courthouse id or None for a new one, county)

    def __call__(self, row, current):
        """CREATE, UPDATE or None, for a row and the values of its incident (None: new)."""
        fields, line = row.fields, row.line
        matched = self.matched.get((row.place, row.fips))
        if matched is None:
            matched = self.courthouse(row)
            if matched is None:
                return None
            self.matched[row.place, row.fips] = matched
        fields.update(courthouse_id=matched[0], county_id=matched[1], state_id=row.place.state)
        if not self.in_jurisdiction(line, fields, current):
            return None
        if current is not None and not self.keep_absent(row, current):
            return None
        if not self.verification_allowed(line, fields, current):
            return None
        if current is None:
            self.report.create(line, fields, row.place)
            return CREATE
        return self.update(line, fields, current, row.place)

    def keep_absent(self, row, current):
        """The incident's own values where the file has no column or an empty choice; False if
        the model's rules then fail."""
        absent = [name for name in self.report.absent_columns if name in IMPORTED_FIELDS]
        if not (absent or row.blank):
            return True
        row.fields.update({name: current[name] for name in (*absent, *row.blank)})
        errors = rule_errors(row.fields)
        for column, message in errors:
            self.report.error(row.line, message, column=column)
        return not errors

    def update(self, line, fields, current, place):
        changed = [name for name in COMPARED if current[name] != fields[name]]
        if not changed:
            self.report.unchanged += 1
            return None
        fields["pk"] = current["id"]
        fields["public"] = any(name not in STAFF_ONLY_FIELDS for name in changed)
        self.report.update(
            line, fields, lambda: [self.change(name, current, fields, place) for name in changed]
        )
        return UPDATE

    def change(self, name, current, fields, place):
        """A Change for the preview: a courthouse by its name, anything else as it is stored."""
        old, new = current[name], fields[name]
        if name == "courthouse_id":
            name, old = "courthouse", self.known.labels.get(old, old)
            new = self.known.labels.get(new) or f"{place.name} ({place.city})"
        return Change(name, _shown(old), _shown(new))

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

    def in_jurisdiction(self, line, fields, current):
        """Whether the importer may write this row: its place, and the incident's current one."""
        scope = self.scope
        if scope is None or (
            scope.allows(fields["state_id"], fields["county_id"], fields["courthouse_id"])
            and (current is None or scope.allows(None, None, current["courthouse_id"]))
        ):
            return True
        where = ", ".join(scope.names()) or _("nowhere")
        self.report.error(
            line, _("outside your jurisdiction (%(where)s)") % {"where": where}, column="courthouse"
        )
        return False

    def courthouse(self, row):
        """(id, county) of the row's courthouse, (None, county) for a new one, or None after an error."""
        place, fips, line = row.place, row.fips, row.line
        found = self.known.candidates(place, fips)
        if len(found) > 1:
            others = ", ".join(sorted(self.known.labels[pk] for pk, _county in found))
            self.report.error(
                line,
                _("several courthouses match: %(others)s; give courthouse_city") % {"others": others},
                "courthouse",
            )
        elif found and fips and found[0][1] != fips:
            self.county_error(
                line, place, _("%(county)s, not %(fips)s") % {"county": found[0][1], "fips": fips}
            )
        elif found:
            return found[0]
        elif self.create_courthouses:
            return self.new(line, place, fips, row.court_type)
        else:
            self.unknown(line, place, fips)
        return None

    def unknown(self, line, place, fips):
        """Reports a courthouse that matches none, once, with the closest names."""
        unknown = self.report.unknown_courthouses
        if place in unknown:
            return
        unknown[place] = fips if place.city and fips else None  # None: cannot be created as written
        close = self.known.closest(place)
        where = f"{place.city}, {place.state}" if place.city else place.state
        if close:
            message = _("no courthouse named %(name)r in %(where)s; did you mean: %(close)s?") % {
                "name": place.name,
                "where": where,
                "close": "; ".join(close),
            }
        else:
            message = _("no courthouse named %(name)r in %(where)s") % {"name": place.name, "where": where}
        self.report.error(line, message, column="courthouse")

    def new(self, line, place, fips, court_type):
        """(None, county) of a courthouse to create; None after an error."""
        if not (place.city and fips):
            missing = "courthouse_city" if not place.city else "county_fips"
            self.report.error(
                line, _("a new courthouse needs its %(column)s") % {"column": missing}, column=missing
            )
            return None
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
            return None
        return None, fips

    def county_error(self, line, place, where):
        message = _("%(name)s (%(city)s, %(state)s) is in county %(where)s") % {
            "name": place.name,
            "city": place.city,
            "state": place.state,
            "where": where,
        }
        self.report.error(line, message, column="county_fips")


def _shown(value):
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


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
