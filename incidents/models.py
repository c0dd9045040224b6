import datetime
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from . import choices
from .limits import EARLIEST_DATE, SUMMARY_MAX_CHARS, no_bidi_controls, no_bidi_controls_in_host

# The only Incident fields that may reach a public page, export or API.
# Everything else (staff-only notes, bookkeeping, demo flag) stays inside.
PUBLIC_FIELDS = (
    "reference",
    "date",
    "date_precision",
    "courthouse",
    "case_type",
    "outcome",
    "people_count",
    "person_role",
    "location",
    "agency",
    "plain_clothes",
    "agents_identified",
    "force_used",
    "court_staff_assisted",
    "warrant",
    "verification",
    "source_type",
    "source_url",
    "summary",
    "summary_language",
)
STAFF_ONLY_FIELDS = ("internal_notes", "docket_number", "reporter_contact")

# Choice fields with the TextChoices class that defines their machine values.
CHOICE_FIELDS = {
    "date_precision": choices.DatePrecision,
    "case_type": choices.CaseType,
    "outcome": choices.Outcome,
    "person_role": choices.PersonRole,
    "location": choices.Location,
    "agency": choices.Agency,
    "plain_clothes": choices.YesNoUnknown,
    "agents_identified": choices.YesNoUnknown,
    "force_used": choices.YesNoUnknown,
    "court_staff_assisted": choices.YesNoUnknown,
    "warrant": choices.Warrant,
    "verification": choices.Verification,
    "source_type": choices.SourceType,
    "status": choices.Status,
    "summary_language": choices.SummaryLanguage,
}

# Every choice a filter, a chart or a label names, with its class: the incident's
# own fields, and the court type, which belongs to the courthouse.
LABELLED_CHOICES = {**CHOICE_FIELDS, "court_type": choices.CourtType}

PUBLISHED = Q(status=choices.Status.PUBLISHED)
RETRACTED = Q(status=choices.Status.RETRACTED)
# How long a court administrator may withdraw their own entry without a reviewer.
WITHDRAWAL_WINDOW = datetime.timedelta(hours=24)
PUBLIC_NOTE_MAX_CHARS = 200

# What a courthouse's address name may look like; filters and forms check it
# before a typed value reaches the database (PostgreSQL refuses a NUL byte).
SLUG_PATTERN = r"[-a-zA-Z0-9_]{1,220}"
SLUG = re.compile(SLUG_PATTERN)

# Free-typed fields where a name can slip in, and what replaces a redacted value.
REDACTABLE_FIELDS = ("summary", "source_url", "retraction_reason", *STAFF_ONLY_FIELDS)
REDACTED = "[redacted]"


def today_utc():
    return timezone.now().date()


class State(models.Model):
    code = models.CharField(_("USPS code"), max_length=2, primary_key=True)
    name = models.CharField(_("name"), max_length=60, unique=True)
    fips = models.CharField(_("FIPS code"), max_length=2, unique=True)

    class Meta:
        verbose_name = _("state")
        verbose_name_plural = _("states")
        ordering = ["name"]

    def __str__(self):
        return self.name


class County(models.Model):
    fips = models.CharField(_("FIPS code"), max_length=5, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    state = models.ForeignKey(State, on_delete=models.PROTECT, related_name="counties")

    class Meta:
        verbose_name = _("county")
        verbose_name_plural = _("counties")
        ordering = ["state_id", "name"]
        verbose_name_plural = _("counties")
        # County autocomplete: name search within one state.
        indexes = [models.Index(fields=["state", "name"])]

    def __str__(self):
        return f"{self.name}, {self.state_id}"

    def get_absolute_url(self):
        return reverse("county_detail", args=[self.fips])


class CourthouseQuerySet(models.QuerySet):
    def public(self):
        """Courthouses named by at least one published incident; a courthouse only
        retracted incidents name stays private. The county makes the lookup use
        the incidents' inc_pub_county_date index."""
        published = Incident.objects.filter(
            PUBLISHED, county_id=models.OuterRef("county_id"), courthouse_id=models.OuterRef("pk")
        )
        return self.filter(models.Exists(published))


class Courthouse(models.Model):
    name = models.CharField(_("name"), max_length=200, validators=[no_bidi_controls])
    slug = models.SlugField(
        _("slug"),
        max_length=220,
        unique=True,
        blank=True,
        help_text=_("Used in addresses; made from the name when left empty."),
    )
    address = models.CharField(_("street address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, validators=[no_bidi_controls])
    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="courthouses")
    latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    court_type = models.CharField(
        _("court type"),
        max_length=12,
        choices=choices.CourtType.choices,
        default=choices.CourtType.STATE,
        help_text=_("Each court type is covered from its own date (see the coverage changes)."),
    )
    is_demo = models.BooleanField(default=False, editable=False)
    history = HistoricalRecords()
    objects = CourthouseQuerySet.as_manager()

    class Meta:
        verbose_name = _("courthouse")
        verbose_name_plural = _("courthouses")
        ordering = ["name"]
        # Import matches a courthouse by name, city and state.
        indexes = [models.Index(fields=["name", "city"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(court_type__in=choices.CourtType.values), name="courthouse_court_type_valid"
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.city}, {self.county.state_id})"

    @property
    def state_id(self):
        return self.county.state_id

    def get_absolute_url(self):
        return reverse("courthouse_detail", args=[self.slug])

    def clean(self):
        if not self.slug and self.name:
            self.slug = unique_slug(self.name, self.city)

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self.name, self.city)
        super().save(*args, **kwargs)
        # Incidents keep a copy of county and state for their indexes.
        Incident.objects.filter(courthouse=self).exclude(county_id=self.county_id).update(
            county_id=self.county_id, state_id=self.county.state_id
        )


def court_type_from_name(name):
    """The court type a courthouse known only by its name most likely has."""
    if "immigration court" in name.lower():
        return choices.CourtType.IMMIGRATION
    return choices.CourtType.STATE


def unique_slug(name, city):
    return free_slug(name, city, lambda slug: Courthouse.objects.filter(slug=slug).exists())


def free_slug(name, city, taken):
    """A new courthouse's slug: its name, else its name and city, numbered if need be.

    `taken(slug)` says whether a slug is in use, from the database or from memory.
    """
    base = slugify(name)[:200] or "courthouse"
    if not taken(base):
        return base
    base = slugify(f"{name} {city}")[:200] or "courthouse"
    slug, n = base, 2
    while taken(slug):
        slug, n = f"{base}-{n}", n + 1
    return slug


class IncidentQuerySet(models.QuerySet):
    def public(self):
        return self.filter(PUBLISHED).select_related("courthouse", "county", "state")

    def demo(self):
        return self.filter(is_demo=True)


class PublicNote(models.Model):
    """A history row's public note: why a published incident was corrected (services.update_incident).

    Shown in the public change log beside the corrected fields; empty on every other row.
    """

    public_note = models.CharField(
        _("public note on the correction"), max_length=PUBLIC_NOTE_MAX_CHARS, null=True, blank=True
    )

    class Meta:
        abstract = True


class Incident(models.Model):
    reference = models.CharField(
        _("reference"),
        max_length=64,
        help_text=_("The source's own id; assigned as TRK-000123 when none is given."),
    )
    date = models.DateField(_("date"), help_text=_("Not after today's date (UTC)."))
    date_precision = models.CharField(
        _("date precision"),
        max_length=5,
        choices=choices.DatePrecision.choices,
        default=choices.DatePrecision.DAY,
        help_text=_("Month: only the month is known and the date is its first day."),
    )
    # No index of its own: public reads of a courthouse's incidents also name its
    # county (inc_pub_county_date), and only a courthouse's deletion (refused,
    # PROTECT) looks up all its rows.
    # The database still refuses an incident without its courthouse, but with
    # statement-level triggers (migration 0008) instead of a foreign-key
    # constraint: a constraint checks each inserted row with its own lookup,
    # which cost a 100,000-row import a second; the triggers check the whole
    # statement's rows in one join.
    courthouse = models.ForeignKey(
        Courthouse,
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("courthouse"),
        db_index=False,
        db_constraint=False,
    )
    # Derived from the courthouse on every save, stored only so that the
    # state and county filters have their own indexes.
    # No single-column indexes: the partial (state|county, date, id) indexes below
    # serve every read, and each index costs the import on every row. No foreign-key
    # constraint either: the courthouse's own constraint already guarantees the place,
    # and each trigger check costs a bulk import another lookup per row.
    county = models.ForeignKey(
        County,
        on_delete=models.PROTECT,
        editable=False,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    state = models.ForeignKey(
        State,
        on_delete=models.PROTECT,
        editable=False,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    case_type = models.CharField(
        _("case type"),
        max_length=12,
        choices=choices.CaseType.choices,
        default=choices.CaseType.UNKNOWN,
        help_text=_("The case that brought the person to court."),
    )
    outcome = models.CharField(
        _("outcome"),
        max_length=10,
        choices=choices.Outcome.choices,
        default=choices.Outcome.UNKNOWN,
        help_text=_(
            "Attempted: an arrest was tried and not completed; observed: agents present, no attempt."
        ),
    )
    people_count = models.PositiveIntegerField(
        _("people taken into custody"),
        default=0,
        help_text=_("At least 1 when arrested; 0 when attempted or observed."),
    )
    person_role = models.CharField(
        _("person's role in court"),
        max_length=10,
        choices=choices.PersonRole.choices,
        default=choices.PersonRole.UNKNOWN,
        help_text=_("Role in court of the person targeted."),
    )
    location = models.CharField(
        _("location"),
        max_length=10,
        choices=choices.Location.choices,
        default=choices.Location.UNKNOWN,
        help_text=_("Outside: on the steps or within a few blocks."),
    )
    agency = models.CharField(
        _("agency"), max_length=8, choices=choices.Agency.choices, default=choices.Agency.UNKNOWN
    )
    plain_clothes = models.CharField(
        _("agents in plain clothes"),
        max_length=8,
        choices=choices.YesNoUnknown.choices,
        default=choices.YesNoUnknown.UNKNOWN,
    )
    agents_identified = models.CharField(
        _("agents identified themselves"),
        max_length=8,
        choices=choices.YesNoUnknown.choices,
        default=choices.YesNoUnknown.UNKNOWN,
    )
    force_used = models.CharField(
        _("force used"),
        max_length=8,
        choices=choices.YesNoUnknown.choices,
        default=choices.YesNoUnknown.UNKNOWN,
    )
    court_staff_assisted = models.CharField(
        _("court staff assisted"),
        max_length=8,
        choices=choices.YesNoUnknown.choices,
        default=choices.YesNoUnknown.UNKNOWN,
    )
    warrant = models.CharField(
        _("warrant"),
        max_length=14,
        choices=choices.Warrant.choices,
        default=choices.Warrant.UNKNOWN,
        help_text=_("Warrant shown, if any."),
    )
    verification = models.CharField(
        _("verification"),
        max_length=10,
        choices=choices.Verification.choices,
        default=choices.Verification.UNVERIFIED,
    )
    source_type = models.CharField(
        _("source type"),
        max_length=12,
        choices=choices.SourceType.choices,
        default=choices.SourceType.OTHER,
    )
    source_url = models.URLField(
        _("source URL"), max_length=500, blank=True, validators=[no_bidi_controls_in_host]
    )
    summary = models.TextField(
        _("summary"),
        blank=True,
        # A validator, not max_length: that would make SQLite rebuild the table (and
        # drop its triggers, migration 0008) for a limit the database does not keep.
        validators=[MaxLengthValidator(SUMMARY_MAX_CHARS)],
        help_text=_("Public narrative. Never write the name of a person arrested."),
    )
    # Not a CSV column (the CSV's columns are fixed): new imported rows are English,
    # and staff set the language in the incident form.
    summary_language = models.CharField(
        _("language of the summary"),
        max_length=2,
        choices=choices.SummaryLanguage.choices,
        default=choices.SummaryLanguage.ENGLISH,
        help_text=_("Summaries are not translated; pages mark each with its language."),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=choices.Status.choices,
        default=choices.Status.PUBLISHED,
        editable=False,
    )
    retraction_reason = models.TextField(_("retraction reason"), blank=True, editable=False)
    # What the public notice of a retracted incident says; retraction_reason stays staff-only.
    retraction_public_reason = models.CharField(
        _("public reason for the retraction"),
        max_length=30,
        choices=choices.RetractionReason.choices,
        blank=True,
        editable=False,
    )
    retracted_at = models.DateTimeField(_("retracted"), null=True, blank=True, editable=False)
    # The latest public change, as of updated_at: what the change feed and Atom feed say.
    last_change = models.CharField(
        _("last public change"),
        max_length=10,
        choices=choices.Change.choices,
        default=choices.Change.CREATED,
        editable=False,
    )

    # Staff-only: listed in STAFF_ONLY_FIELDS, never in PUBLIC_FIELDS.
    internal_notes = models.TextField(_("internal notes (staff only)"), blank=True)
    docket_number = models.CharField(_("docket number (staff only)"), max_length=100, blank=True)
    reporter_contact = models.CharField(_("reporter contact (staff only)"), max_length=200, blank=True)

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    # Unindexed and unconstrained in the database: only a user's deletion looks
    # incidents up by author, and Django applies SET_NULL itself.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        db_index=False,
        db_constraint=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        db_index=False,
        db_constraint=False,
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    is_demo = models.BooleanField(default=False, editable=False)

    # History is read by incident id only (SIMPLE_HISTORY_DATE_INDEX is off);
    # the other copied indexes would only slow every write down. The author
    # has no constraint, like created_by: Django applies SET_NULL itself, and a
    # constraint would cost an import one trigger lookup per row.
    history = HistoricalRecords(
        excluded_fields=["county", "state"],
        no_db_index=["reference", "courthouse", "created_by", "updated_by"],
        user_db_constraint=False,
        bases=[PublicNote],
    )
    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        # Reviewers' actions; court administrators use add/change/view_incident.
        permissions = [
            ("review_incident", "Can set the verification of incidents"),
            ("retract_incident", "Can retract and restore incidents"),
        ]
        constraints = [
            # A constraint rather than unique=True: the field would also get a
            # second, LIKE-pattern index on PostgreSQL that no query uses.
            models.UniqueConstraint(fields=["reference"], name="incident_reference_unique"),
            models.CheckConstraint(
                condition=Q(people_count__gte=0), name="incident_people_count_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(date_precision="day") | Q(date__day=1),
                name="incident_month_precision_on_first_day",
            ),
            models.CheckConstraint(
                condition=Q(outcome="unknown")
                | Q(outcome="arrested", people_count__gte=1)
                | Q(outcome__in=["attempted", "observed"], people_count=0),
                name="incident_people_count_matches_outcome",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{field}__in": klass.values}), name=f"incident_{field}_valid"
                )
                for field, klass in CHOICE_FIELDS.items()
            ],
        ]
        # Public queries only ever read published rows, so the indexes are
        # partial: retracted rows cost them nothing. Every list ordering ends
        # with id so that keyset pagination has a unique sort key.
        indexes = [
            # list and export with no filter, ordered by date (the default)
            models.Index(fields=["-date", "-id"], name="inc_pub_date", condition=PUBLISHED),
            # ?state=NY ordered by date
            models.Index(fields=["state", "-date", "-id"], name="inc_pub_state_date", condition=PUBLISHED),
            # ?county=36047 and /counties/<fips>/
            models.Index(fields=["county", "-date", "-id"], name="inc_pub_county_date", condition=PUBLISHED),
            # ?courthouse=slug and /courthouses/<slug>/ use inc_pub_county_date: they
            # also name the courthouse's county, and a county holds a few courthouses.
            # One index less saves a 1M-row table's import a third of its index work.
            # ?updated_after= and ordering=updated_at (incremental downloads)
            models.Index(fields=["updated_at", "id"], name="inc_pub_updated", condition=PUBLISHED),
            # the change feed's retracted rows (api/changes/); no import ever writes one
            models.Index(fields=["updated_at", "id"], name="inc_retracted_updated", condition=RETRACTED),
            # ordering=people_count
            models.Index(fields=["people_count", "id"], name="inc_pub_people", condition=PUBLISHED),
            # the demo banner's "any demo row?" check and load_demo_data --clear
            models.Index(fields=["id"], name="inc_demo", condition=Q(is_demo=True)),
        ]

    def __str__(self):
        return f"{self.reference} · {self.date} · {self.courthouse.name}"

    def get_absolute_url(self):
        return reverse("incident_detail", args=[self.pk])

    @property
    def court_type(self):
        """The courthouse's. The CSV and the API carry it as a column of each incident, and
        so every export column can be read off an incident (bench/import_bench.py does)."""
        return self.courthouse.court_type

    @property
    def is_published(self):
        return self.status == choices.Status.PUBLISHED

    @property
    def is_draft(self):
        return self.status == choices.Status.DRAFT

    def clean(self):
        errors = {}
        if self.date and self.date > today_utc():
            errors["date"] = _("%(date)s is in the future") % {"date": self.date.isoformat()}
        if self.date and self.date < EARLIEST_DATE:
            errors["date"] = _("%(date)s is before %(earliest)s, the earliest date the tracker accepts.") % {
                "date": f"{self.date.year:04d}-{self.date:%m-%d}",
                "earliest": EARLIEST_DATE.isoformat(),
            }
        if self.date and self.date_precision == choices.DatePrecision.MONTH and self.date.day != 1:
            errors["date"] = _("A month-precision date must be the first day of its month.")
        error = people_count_error(self.outcome, self.people_count)
        if error:
            errors["people_count"] = error
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude=None):
        # Each check constraint restates a rule that field choices and clean()
        # already validate in Python; Django would spend one query on each.
        # Only the unique reference needs the database.
        for constraint in self._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint):
                try:
                    constraint.validate(type(self), self, exclude=exclude)
                except ValidationError as error:
                    raise ValidationError({constraint.fields[0]: error}) from None

    def save(self, *args, **kwargs):
        if self.courthouse_id:
            self.county_id, self.state_id = courthouse_place(self.courthouse_id)
        if self.reference:
            return super().save(*args, **kwargs)
        # The id is the assigned reference's number, so it is known only after
        # the insert; the creation's history row gets the final reference too.
        provisional = self.reference = provisional_reference()
        super().save(*args, **kwargs)
        self.reference = assigned_reference(self.pk)
        type(self).objects.filter(pk=self.pk).update(reference=self.reference)
        self.history.filter(id=self.pk, reference=provisional).update(reference=self.reference)


def courthouse_place(courthouse_id):
    """(county FIPS, state code) of a courthouse, in one query."""
    return Courthouse.objects.values_list("county_id", "county__state_id").get(pk=courthouse_id)


def people_count_error(outcome, people_count):
    if people_count is None or outcome is None:
        return None
    if outcome == choices.Outcome.ARRESTED and people_count < 1:
        return _("At least 1 person when the outcome is arrested.")
    if outcome in (choices.Outcome.ATTEMPTED, choices.Outcome.OBSERVED) and people_count != 0:
        return _("Must be 0 when the outcome is attempted or observed.")
    return None


def provisional_reference():
    import uuid

    return f"TMP-{uuid.uuid4().hex}"


def assigned_reference(pk):
    return f"TRK-{pk:06d}"


class PolicyEvent(models.Model):
    date = models.DateField(_("date"))
    # A state's event is drawn only on charts of that state (or of every state).
    state = models.ForeignKey(
        State,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("state"),
        help_text=_("Empty for a federal event, which every chart shows."),
    )
    title = models.CharField(_("title"), max_length=200)
    url = models.URLField(_("URL"), max_length=500, blank=True)
    is_demo = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.jurisdiction}: {self.title}"

    @property
    def jurisdiction(self):
        return self.state.name if self.state_id else _("Federal")


class CoverageChange(models.Model):
    """From this date on, the tracker records incidents at courts of this type.

    A count that starts or jumps at such a date reflects what was recorded, not
    what happened; the monthly charts mark these dates apart from policy events.
    """

    court_type = models.CharField(_("court type"), max_length=12, choices=choices.CourtType.choices)
    start = models.DateField(_("covered from"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["start", "court_type"]

    def __str__(self):
        return f"{self.get_court_type_display()} from {self.start}"


def display_text(name, value, *, precision=None, courthouse_names=None):
    """How a value of Incident field `name` is shown to people: detail page, change logs, conflict page.

    "" for no value, a choice's label, a courthouse's name (`courthouse_names`
    maps ids to names where only the id is at hand), an ISO date, or for a
    month-precision date (`precision`) its month.
    """
    if value is None or value == "":
        return ""
    if name == "courthouse":
        return _courthouse_text(value, courthouse_names or {})
    if name in CHOICE_FIELDS:
        return str(dict(CHOICE_FIELDS[name].choices).get(value, value))
    if name == "date" and precision == choices.DatePrecision.MONTH:
        return _("%(month)s (only the month is known)") % {"month": date_format(value, "YEAR_MONTH_FORMAT")}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _courthouse_text(value, names):
    if isinstance(value, Courthouse):
        return value.name
    return names.get(value, _("a courthouse no longer listed"))


class Redaction(models.Model):
    """A text removed on purpose from an incident and from all of its history.

    The one exception to "nothing is lost": the text itself is gone, replaced by
    REDACTED, and this row keeps who removed it, when, from which field and why.
    Staff see it on the incident's history page and in the admin; it is never public.
    """

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="redactions", verbose_name=_("incident")
    )
    field = models.CharField(
        _("field"),
        max_length=40,
        choices=[(name, Incident._meta.get_field(name).verbose_name) for name in REDACTABLE_FIELDS],
    )
    reason = models.TextField(_("reason"))
    redacted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("redacted by"),
    )
    redacted_at = models.DateTimeField(_("redacted at"), default=timezone.now)
    history_rows = models.PositiveIntegerField(_("history rows changed"))

    class Meta:
        ordering = ["-redacted_at", "-id"]

    def __str__(self):
        return f"{self.incident_id} · {self.field} · {self.redacted_at:%Y-%m-%d}"


class DataVersion(models.Model):
    """The version of the public data: one row, changed by every write (incidents/cache.py).

    A row rather than a cache entry, so that no cache cull can ever remove it.
    `changed_at` is when it last changed: the "data as of" time of every public
    page and answer, and their Last-Modified header.
    """

    value = models.BigIntegerField()
    changed_at = models.DateTimeField(default=timezone.now)


class ReferenceFigure(models.Model):
    """A count published by someone else (an advocacy group, a court system, an analyst).

    The dashboard and /api/reference-figures/ show it beside our own count for the
    same place, period, court type and outcomes (incidents/comparison.py), with both
    definitions, because the two rarely count the same thing.
    """

    publisher = models.CharField(_("publisher"), max_length=200, validators=[no_bidi_controls])
    title = models.CharField(_("title"), max_length=300, validators=[no_bidi_controls])
    url = models.URLField(_("URL"), max_length=500, validators=[no_bidi_controls_in_host])
    published = models.DateField(_("published on"))
    state = models.ForeignKey(
        State,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("state"),
        help_text=_("Empty for a figure of the whole country."),
    )
    counties = models.ManyToManyField(
        County,
        blank=True,
        related_name="+",
        verbose_name=_("counties"),
        help_text=_("Empty for the whole state (or country); else the counties the figure covers."),
    )
    area = models.CharField(
        _("area"), max_length=100, help_text=_("The area as the publisher names it: New York City, say.")
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    court_type = models.CharField(
        _("court type"),
        max_length=12,
        choices=choices.CourtType.choices,
        blank=True,
        help_text=_("Empty when the figure counts every kind of court."),
    )
    counted = models.CharField(_("what is counted"), max_length=24, choices=choices.Counted.choices)
    value = models.PositiveIntegerField(_("value"))
    definition = models.TextField(
        _("definition"),
        validators=[MaxLengthValidator(1000)],
        help_text=_("What the publisher counted, as it defines it."),
    )

    class Meta:
        ordering = ["period_start", "period_end", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="reference_figure_period_in_order"
            )
        ]

    def __str__(self):
        return f"{self.publisher}: {self.value} ({self.area}, {self.period_start} to {self.period_end})"


class Summary(models.Model):
    """Published incidents and people counted per month, state and one dimension's value.

    Kept by database triggers (migration 0020) in the transaction of every write,
    whatever makes it (services, admin, import, COPY), so it is never behind the
    incidents. Rows whose month is ALL_TIME hold the totals over every month.
    incidents/summary.py reads it for the dashboard and /api/stats/.
    """

    ALL_TIME = datetime.date(1, 1, 1)

    month = models.DateField()
    state = models.CharField(max_length=2)
    dimension = models.CharField(max_length=16)
    value = models.CharField(max_length=64)
    incidents = models.IntegerField()
    people = models.BigIntegerField()

    class Meta:
        # The upsert's conflict target; the dashboard reads a dimension's rows by
        # (dimension, month) with every state, or one state's.
        constraints = [
            models.UniqueConstraint(fields=["dimension", "month", "state", "value"], name="summary_key")
        ]


class Jurisdiction(models.Model):
    """One place where a court administrator may enter, correct and import incidents.

    Exactly one of state, county or courthouse. A court administrator with no
    jurisdiction may write nowhere; reviewers and superusers are not limited
    (permissions.py holds the rule).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="jurisdictions",
        verbose_name=_("court administrator"),
    )
    state = models.ForeignKey(
        State, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("state")
    )
    county = models.ForeignKey(
        County, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("county")
    )
    courthouse = models.ForeignKey(
        Courthouse,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("courthouse"),
    )

    class Meta:
        verbose_name = _("jurisdiction")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__isnull=False, county__isnull=True, courthouse__isnull=True)
                | Q(state__isnull=True, county__isnull=False, courthouse__isnull=True)
                | Q(state__isnull=True, county__isnull=True, courthouse__isnull=False),
                name="jurisdiction_one_place",
            )
        ]

    def __str__(self):
        return str(self.place)

    @property
    def place(self):
        return self.state or self.county or self.courthouse

    def clean(self):
        if sum(value is not None for value in (self.state_id, self.county_id, self.courthouse_id)) != 1:
            raise ValidationError(_("Choose exactly one: a state, a county or a courthouse."))


class RetractionRequest(models.Model):
    """A court administrator's request that a reviewer retract an incident (after the withdrawal window)."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="retraction_requests", verbose_name=_("incident")
    )
    public_reason = models.CharField(
        _("public reason"), max_length=30, choices=choices.RetractionReason.choices
    )
    reason = models.TextField(_("reason (staff only)"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=choices.RequestOutcome.choices, blank=True, default=""
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        verbose_name = _("retraction request")
        # The open requests, for the reviewers' list.
        indexes = [
            models.Index(fields=["requested_at"], name="retraction_request_open", condition=Q(outcome=""))
        ]

    def __str__(self):
        return f"{self.incident_id} · {self.requested_at:%Y-%m-%d}"


class Source(models.Model):
    """One more source of an incident, beside its primary source (source_type, source_url).

    Public once its incident is: the incident page and the API list them. A report
    attached as a source keeps its link to the report.
    """

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="sources", verbose_name=_("incident")
    )
    source_type = models.CharField(
        _("source type"), max_length=12, choices=choices.SourceType.choices, default=choices.SourceType.OTHER
    )
    url = models.URLField(_("URL"), max_length=500, blank=True, validators=[no_bidi_controls_in_host])
    date = models.DateField(_("date"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True, validators=[no_bidi_controls])
    report = models.ForeignKey(
        "Report", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("report")
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["date", "id"]

    def __str__(self):
        return f"{self.incident_id} · {self.get_source_type_display()} · {self.url}"


class Report(models.Model):
    """What a member of the public sent through /report/. Never public by itself:
    it waits in the moderation queue until a reviewer makes it an incident,
    attaches it to one as a source, or rejects it."""

    status = models.CharField(
        _("status"), max_length=10, choices=choices.ReportStatus.choices, default=choices.ReportStatus.NEW
    )
    outcome = models.CharField(
        _("what happened"), max_length=10, choices=choices.Outcome.choices, default=choices.Outcome.UNKNOWN
    )
    date = models.DateField(_("date"))
    courthouse = models.ForeignKey(
        Courthouse,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("courthouse"),
    )
    courthouse_text = models.CharField(_("courthouse (as typed)"), max_length=200, blank=True)
    person_role = models.CharField(
        _("person's role in court"),
        max_length=10,
        choices=choices.PersonRole.choices,
        default=choices.PersonRole.UNKNOWN,
    )
    case_type = models.CharField(
        _("case type"), max_length=12, choices=choices.CaseType.choices, default=choices.CaseType.UNKNOWN
    )
    location = models.CharField(
        _("location"), max_length=10, choices=choices.Location.choices, default=choices.Location.UNKNOWN
    )
    description = models.TextField(_("description"))
    source_url = models.URLField(_("source link"), max_length=500, blank=True)
    # Staff-only, erased CONTACT_KEPT_AFTER_CLOSE after the report is closed.
    contact = models.CharField(_("contact details (staff only)"), max_length=200, blank=True)
    # A keyed hash of the sender's address, for the hourly limit only; erased with the contact.
    address_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("received"), default=timezone.now, editable=False, db_index=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    rejection_reason = models.TextField(_("reason for the rejection (staff only)"), blank=True)
    incident = models.ForeignKey(
        Incident,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("incident"),
    )
    history = HistoricalRecords(excluded_fields=["address_hash", "contact"])

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"], name="report_status_created")]

    def __str__(self):
        return f"#{self.pk} · {self.date} · {self.get_status_display()}"

    @property
    def place(self):
        return str(self.courthouse) if self.courthouse_id else self.courthouse_text


class Merge(models.Model):
    """`merged` was a duplicate of `kept`: its sources moved to `kept`, and it was retracted."""

    kept = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="+", verbose_name=_("kept"))
    merged = models.OneToOneField(
        Incident, on_delete=models.PROTECT, related_name="merge", verbose_name=_("merged")
    )
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.merged_id} → {self.kept_id}"
