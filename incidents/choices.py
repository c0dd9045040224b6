"""Every choice of the data model, with the exact machine values (docs/data-model.md).

Labels are what people read; values are what filters, exports and imports use.
The data dictionary (/data/) is generated from these classes, so a change here
shows up there without any hand-written copy.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DatePrecision(models.TextChoices):
    DAY = "day", _("Exact day")
    MONTH = "month", _("Month only")


class CaseType(models.TextChoices):
    CRIMINAL = "criminal", _("Criminal")
    FAMILY = "family", _("Family")
    CIVIL = "civil", _("Civil")
    HOUSING = "housing", _("Housing")
    TRAFFIC = "traffic", _("Traffic")
    JUVENILE = "juvenile", _("Juvenile")
    IMMIGRATION = "immigration", _("Immigration")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class Outcome(models.TextChoices):
    ARRESTED = "arrested", _("Arrested")
    ATTEMPTED = "attempted", _("Attempted arrest")
    OBSERVED = "observed", _("Agents observed")
    UNKNOWN = "unknown", _("Unknown")


class PersonRole(models.TextChoices):
    DEFENDANT = "defendant", _("Defendant")
    VICTIM = "victim", _("Victim")
    WITNESS = "witness", _("Witness")
    LITIGANT = "litigant", _("Litigant")
    COMPANION = "companion", _("Companion")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class Location(models.TextChoices):
    COURTROOM = "courtroom", _("In a courtroom")
    INSIDE = "inside", _("Inside the courthouse")
    ENTRANCE = "entrance", _("At the entrance")
    OUTSIDE = "outside", _("Outside (steps or nearby)")
    UNKNOWN = "unknown", _("Unknown")


class Agency(models.TextChoices):
    ICE = "ice", _("ICE")
    CBP = "cbp", _("CBP")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class YesNoUnknown(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Unknown")


class Warrant(models.TextChoices):
    JUDICIAL = "judicial", _("Judicial warrant")
    ADMINISTRATIVE = "administrative", _("Administrative warrant")
    NONE = "none", _("No warrant shown")
    UNKNOWN = "unknown", _("Unknown")


class Verification(models.TextChoices):
    UNVERIFIED = "unverified", _("Unverified")
    VERIFIED = "verified", _("Verified")
    DISPUTED = "disputed", _("Disputed")


class SourceType(models.TextChoices):
    COURT_RECORD = "court_record", _("Court record")
    ATTORNEY = "attorney", _("Attorney")
    NEWS = "news", _("News report")
    COMMUNITY = "community", _("Community report")
    GOVERNMENT = "government", _("Government")
    OTHER = "other", _("Other")


class CourtType(models.TextChoices):
    """A courthouse's kind of court; coverage began at different dates for each (CoverageChange)."""

    STATE = "state", _("State or local court")
    IMMIGRATION = "immigration", _("Immigration court (EOIR)")
    FEDERAL = "federal", _("Federal court")


class Status(models.TextChoices):
    PUBLISHED = "published", _("Published")
    RETRACTED = "retracted", _("Retracted")
    # Saved by staff, not yet published: never on a public page, export, feed or count.
    DRAFT = "draft", _("Draft")


class RetractionReason(models.TextChoices):
    """Why a report was retracted, as the public notice says it; staff keep their own words."""

    DUPLICATE = "duplicate", _("Duplicate of another report")
    NOT_IMMIGRATION_ENFORCEMENT = "not_immigration_enforcement", _("Not an immigration enforcement action")
    NOT_AT_COURTHOUSE = "not_at_courthouse", _("Not at or near a courthouse")
    SOURCE_WITHDRAWN = "source_withdrawn", _("The source withdrew its report")
    OTHER = "other", _("Other reason")


class Change(models.TextChoices):
    """An incident's latest public change, as the change feed and the Atom feed name it."""

    CREATED = "created", _("New")
    UPDATED = "updated", _("Corrected")
    RETRACTED = "retracted", _("Retracted")
    RESTORED = "restored", _("Restored")


class Counted(models.TextChoices):
    """What a published reference figure counts, in the terms of our outcomes."""

    ARRESTS = "arrests", _("Arrests")
    ATTEMPTS = "attempts", _("Attempted arrests")
    SIGHTINGS = "sightings", _("Sightings of agents")
    ARRESTS_AND_ATTEMPTS = "arrests_and_attempts", _("Arrests and attempted arrests")
    ALL = "all", _("Arrests, attempted arrests and sightings")


class RequestOutcome(models.TextChoices):
    """What a reviewer decided on a court administrator's request for a retraction."""

    OPEN = "", _("Waiting for a reviewer")
    RETRACTED = "retracted", _("Retracted")
    DECLINED = "declined", _("Declined")


class SummaryLanguage(models.TextChoices):
    """The language staff wrote a summary in; pages mark it with lang= for screen readers."""

    ENGLISH = "en", _("English")
    SPANISH = "es", _("Spanish")


class ReportStatus(models.TextChoices):
    """Where a public report stands in the moderation queue (/staff/reports/)."""

    NEW = "new", _("New")
    IN_REVIEW = "in_review", _("In review")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
