"""Staff forms: incident entry and correction, courthouses, review, import."""

import re

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from . import choices
from .imports import check_size
from .limits import (
    EARLIEST_DATE,
    REPORT_DESCRIPTION_MAX_CHARS,
    SUMMARY_MAX_CHARS,
    no_bidi_controls,
    no_bidi_controls_in_host,
)
from .models import (
    PUBLIC_FIELDS,
    PUBLIC_NOTE_MAX_CHARS,
    PUBLISHED,
    SLUG,
    STAFF_ONLY_FIELDS,
    County,
    Courthouse,
    Incident,
    Report,
    Source,
    State,
    court_type_from_name,
    today_utc,
)
from .permissions import may_write, write_scope

RADIO_FIELDS = (
    "date_precision",
    "outcome",
    "agency",
    "warrant",
    "plain_clothes",
    "agents_identified",
    "force_used",
    "court_staff_assisted",
    "summary_language",
)


class AsciiIntegerField(forms.IntegerField):
    """A whole number in ASCII digits: int() would also read other scripts' digits ("٣")."""

    def to_python(self, value):
        if value not in self.empty_values and not re.fullmatch(r"\s*-?[0-9]+\s*", str(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class CourthouseChoiceField(forms.ModelChoiceField):
    """A courthouse named by its slug: typed, or picked from the autocomplete."""

    default_error_messages = {
        "invalid_choice": _(
            "No courthouse is called %(value)s. Type part of its name and pick it "
            "from the list, or add the courthouse."
        ),
    }

    def __init__(self, **kwargs):
        queryset = Courthouse.objects.select_related("county")
        super().__init__(queryset=queryset, to_field_name="slug", **kwargs)

    def to_python(self, value):
        # Only a possible slug reaches the database (PostgreSQL refuses a NUL byte).
        if value not in self.empty_values and not SLUG.fullmatch(str(value)):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            )
        return super().to_python(value)


class IncidentForm(forms.ModelForm):
    courthouse = CourthouseChoiceField(
        label=_("Courthouse"),
        help_text=_("Type part of the name or city and pick from the list."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "class": "courthouse-search",
                "autofocus": True,
            }
        ),
    )

    class Meta:
        model = Incident
        fields = [
            "courthouse",
            "date",
            "date_precision",
            "outcome",
            "people_count",
            "case_type",
            "person_role",
            "location",
            "agency",
            "warrant",
            "plain_clothes",
            "agents_identified",
            "force_used",
            "court_staff_assisted",
            "source_type",
            "source_url",
            "summary",
            "summary_language",
            "reference",
            *STAFF_ONLY_FIELDS,
        ]
        field_classes = {"people_count": AsciiIntegerField}
        widgets = {
            "date": forms.DateInput(
                attrs={"type": "date", "min": EARLIEST_DATE.isoformat()}, format="%Y-%m-%d"
            ),
            "people_count": forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
            "summary": forms.Textarea(attrs={"rows": 4, "maxlength": SUMMARY_MAX_CHARS}),
            "internal_notes": forms.Textarea(attrs={"rows": 3}),
            "source_url": forms.URLInput(attrs={"placeholder": "https://"}),
            **{name: forms.RadioSelect for name in RADIO_FIELDS},
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user  # whose jurisdiction limits the courthouse (permissions.py)
        self.fields["reference"].required = bool(self.instance.pk)
        if not self.instance.pk:
            self.fields["reference"].help_text = _(
                "The source's own id, if any; left empty, one is assigned (TRK-000123)."
            )
            self.fields["date"].initial = today_utc()
        else:
            self.initial["courthouse"] = self.instance.courthouse.slug
        # Forms and scripts written before the field existed leave it out: English, or as it was.
        self.fields["summary_language"].required = False

    def clean_summary_language(self):
        return self.cleaned_data["summary_language"] or self.instance.summary_language

    def clean_courthouse(self):
        courthouse = self.cleaned_data["courthouse"]
        if courthouse and not may_write(self.user, courthouse):
            raise forms.ValidationError(
                _("%(name)s is outside your jurisdiction (%(places)s). Ask a reviewer to enter it."),
                params={
                    "name": courthouse.name,
                    "places": ", ".join(write_scope(self.user).names()) or _("none yet"),
                },
            )
        return courthouse

    def clean_reference(self):
        reference = self.cleaned_data["reference"]
        if reference.upper().startswith("TRK-") and reference != self.instance.reference:
            raise forms.ValidationError(
                _("References starting with TRK- are assigned by the tracker; leave this empty.")
            )
        return reference

    def clean(self):
        cleaned = super().clean()
        day = cleaned.get("date")
        if day and cleaned.get("date_precision") == choices.DatePrecision.MONTH:
            # Only the month is known: it is stored as its first day.
            cleaned["date"] = day.replace(day=1)
        return cleaned

    def chosen_courthouse(self):
        """The courthouse the form currently names, to show its full name next to the slug."""
        value = self["courthouse"].value()
        if not isinstance(value, str) or not SLUG.fullmatch(value):
            return None
        if self.instance.courthouse_id and self.instance.courthouse.slug == value:
            return self.instance.courthouse
        return Courthouse.objects.select_related("county").filter(slug=value).first()


class IncidentEditForm(IncidentForm):
    # The version this form was loaded with: saving refuses when the row moved on.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    public_note = forms.CharField(
        label=_("Public note on this correction"),
        max_length=PUBLIC_NOTE_MAX_CHARS,
        required=False,
        validators=[no_bidi_controls],
        help_text=_(
            'Why the published incident changed, in a few words, e.g. "date corrected from court record". '
            "Shown in the public change log beside the corrected fields. Not needed for staff-only fields."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["courthouse"].widget.attrs.pop("autofocus", None)
        self.initial.setdefault("version", self.instance.version)

    def clean(self):
        cleaned = super().clean()
        public = set(self.changed_data) & set(PUBLIC_FIELDS)
        if self.instance.is_published and public and not cleaned.get("public_note", "").strip():
            self.add_error("public_note", _("Say in a few words why the published incident changed."))
        return cleaned


class IncidentAdminForm(forms.ModelForm):
    # The stored version when the page was loaded (a revert page's instance is an
    # old one): saving refuses when the row moved on since.
    loaded_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = Incident
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            stored = Incident.objects.filter(pk=self.instance.pk).values_list("version", flat=True)
            self.initial.setdefault("loaded_version", stored.first())
        else:
            self.fields["loaded_version"].required = False


class CourthouseForm(forms.ModelForm):
    state = forms.ModelChoiceField(
        queryset=State.objects.all(),
        label=_("State"),
        empty_label=_("Choose a state"),
        widget=forms.Select(attrs={"class": "state-select"}),
    )
    county = forms.ModelChoiceField(
        queryset=County.objects.none(),
        label=_("County"),
        empty_label=_("Choose a county"),
        widget=forms.Select(attrs={"class": "county-select"}),
    )
    # Left empty, the name decides, as it does for a courthouse an import creates.
    court_type = forms.ChoiceField(
        label=_("Court type"),
        choices=[("", _("From the name: an immigration court if it says so")), *choices.CourtType.choices],
        required=False,
    )

    class Meta:
        model = Courthouse
        fields = ["name", "court_type", "address", "city", "state", "county"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Counties of the chosen state only; staff.js refreshes them when the state changes.
        state = self["state"].value()
        if state:
            self.fields["county"].queryset = County.objects.filter(state_id=state)
        self.fields["county"].label_from_instance = lambda county: county.name

    def clean_court_type(self):
        return self.cleaned_data["court_type"] or court_type_from_name(self.cleaned_data.get("name", ""))

    def clean(self):
        cleaned = super().clean()
        name, city, state = cleaned.get("name"), cleaned.get("city"), cleaned.get("state")
        if name and city and state:
            twin = Courthouse.objects.filter(name=name, city=city, county__state=state).first()
            if twin:
                raise forms.ValidationError(
                    _("%(name)s in %(city)s, %(state)s already exists (address name %(slug)s)."),
                    params={"name": name, "city": city, "state": state.code, "slug": twin.slug},
                )
        return cleaned


class VerificationForm(forms.Form):
    verification = forms.ChoiceField(
        choices=choices.Verification.choices, widget=forms.RadioSelect, label=_("Verification")
    )


class RetractForm(forms.Form):
    public_reason = forms.ChoiceField(
        label=_("Public reason"),
        choices=[("", "---------"), *choices.RetractionReason.choices],
        help_text=_("Shown on the incident's public notice, in the change feed and in the Atom feed."),
    )
    reason = forms.CharField(
        label=_("Reason for the retraction"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Staff only: kept with the incident and in its history, never shown to the public."),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("A retraction needs a reason."))
        return reason


class RedactForm(forms.Form):
    field = forms.ChoiceField(label=_("Field"))
    text = forms.CharField(
        label=_("Text to remove"),
        max_length=SUMMARY_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Exactly as it was typed, a name for example. Every occurrence, in the incident and in "
            "every earlier version of this field, becomes [redacted]. This cannot be undone."
        ),
    )
    reason = forms.CharField(
        label=_("Why it is removed"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept in the staff history with your name; never shown to the public."),
    )

    def __init__(self, *args, fields, **kwargs):
        super().__init__(*args, **kwargs)
        meta = Incident._meta
        self.fields["field"].choices = [
            (name, capfirst(meta.get_field(name).verbose_name)) for name in fields
        ]


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8, one header row naming the columns: the export's, or only some of them."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        too_big = check_size(upload.size)
        if too_big:
            raise forms.ValidationError(too_big[0].upper() + too_big[1:] + ".")
        return upload


# Public reports and moderation ------------------------------------------------

HTML_TAG = re.compile(r"<\s*[a-zA-Z/!?]")


def plain_text(value):
    """A reporter's text: no HTML tags and no invisible direction characters."""
    if HTML_TAG.search(value or ""):
        raise forms.ValidationError(_("Write plain text: remove the HTML tags (such as <script>)."))
    no_bidi_controls(value)


class ReportForm(forms.ModelForm):
    """The public report form (/report/): plain language, no account, no JavaScript."""

    courthouse = forms.CharField(
        label=_("Courthouse"),
        required=False,
        max_length=200,
        help_text=_("Its name as the court writes it, for example “Brooklyn Criminal Court”."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    # A honeypot: hidden from people; a program that fills in every field fills it in too.
    website = forms.CharField(label=_("Leave this empty"), required=False, max_length=200)

    class Meta:
        model = Report
        fields = [
            "outcome",
            "date",
            "courthouse",
            "courthouse_text",
            "person_role",
            "case_type",
            "location",
            "description",
            "source_url",
            "contact",
        ]
        labels = {
            "outcome": _("What happened?"),
            "date": _("When did it happen?"),
            "courthouse_text": _("Courthouse not found? Describe it"),
            "person_role": _("The person's role in court, if you know it"),
            "case_type": _("The kind of case, if you know it"),
            "location": _("Where exactly?"),
            "description": _("What did you see or learn?"),
            "source_url": _("A link to a source (news story, post, court record), if any"),
            "contact": _("Your email or phone number, if we may contact you (optional)"),
        }
        help_texts = {
            "courthouse_text": _("Name, street and city of a courthouse we do not list."),
            "description": _("Please do not write the name of the person arrested."),
            "contact": _(
                "Only the tracker's reviewers see it; it is never published, and it is erased "
                "90 days after your report is dealt with."
            ),
        }
        widgets = {
            "outcome": forms.RadioSelect,
            "date": forms.DateInput(
                attrs={"type": "date", "min": EARLIEST_DATE.isoformat()}, format="%Y-%m-%d"
            ),
            "description": forms.Textarea(attrs={"rows": 6, "maxlength": REPORT_DESCRIPTION_MAX_CHARS}),
            "source_url": forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}),
            "contact": forms.TextInput(attrs={"autocomplete": "email"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["description"].max_length = REPORT_DESCRIPTION_MAX_CHARS
        self.fields["description"].validators.append(MaxLengthValidator(REPORT_DESCRIPTION_MAX_CHARS))
        for name in ("courthouse_text", "description", "contact", "courthouse"):
            self.fields[name].validators.append(plain_text)
        self.fields["source_url"].validators.append(no_bidi_controls_in_host)

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day > today_utc():
            raise forms.ValidationError(_("This date is in the future."))
        if day < EARLIEST_DATE:
            raise forms.ValidationError(
                _("The tracker records events from %(earliest)s on.")
                % {"earliest": EARLIEST_DATE.isoformat()}
            )
        return day

    def clean_courthouse(self):
        typed = self.cleaned_data["courthouse"].strip()
        return courthouse_named(typed) if typed else None

    def clean(self):
        cleaned = super().clean()
        if "courthouse" in cleaned and not cleaned.get("courthouse") and not cleaned.get("courthouse_text"):
            self.add_error("courthouse", _("Name the courthouse, or describe it in the box below."))
        return cleaned

    @property
    def is_spam(self):
        return bool(self.data.get("website"))


def courthouse_named(typed):
    """The courthouse `typed` names: its address name, or its name (with the city when
    two share it, as "Name (City, ST)")."""
    found = Courthouse.objects.select_related("county")
    if SLUG.fullmatch(typed) and found.filter(slug=typed).exists():
        return found.get(slug=typed)
    matches = [c for c in found.filter(name__iexact=typed.split(" (")[0])[:20] if _names(c, typed)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise forms.ValidationError(
            _("Several courthouses are called that; add the city: %(names)s.")
            % {"names": "; ".join(str(c) for c in matches)}
        )
    raise forms.ValidationError(
        _(
            "We do not know a courthouse called “%(name)s”. Check the spelling, or describe it in the box below."
        )
        % {"name": typed[:200]}
    )


def _names(courthouse, typed):
    return typed.casefold() in (courthouse.name.casefold(), str(courthouse).casefold())


class ReportIncidentForm(IncidentForm):
    """The entry form, for a reviewer turning a report into an incident: no staff-only fields,
    so that the reporter's contact never leaves the report (it is erased from there)."""

    class Meta(IncidentForm.Meta):
        fields = [name for name in IncidentForm.Meta.fields if name not in STAFF_ONLY_FIELDS]


def report_initial(report):
    """The entry form's values, taken from a report."""
    arrested = report.outcome == choices.Outcome.ARRESTED
    return {
        "courthouse": report.courthouse.slug if report.courthouse_id else "",
        "date": report.date,
        **{name: getattr(report, name) for name in ("outcome", "case_type", "person_role", "location")},
        "people_count": 1 if arrested else 0,
        "source_type": choices.SourceType.COMMUNITY,
        "source_url": report.source_url,
        "summary": report.description,
    }


class AttachForm(forms.Form):
    reference = forms.CharField(label=_("Reference of the incident"), max_length=64)
    note = forms.CharField(
        label=_("Public note on this source (optional)"),
        max_length=300,
        required=False,
        validators=[plain_text],
    )

    def clean_reference(self):
        reference = self.cleaned_data["reference"].strip()
        incident = Incident.objects.filter(PUBLISHED, reference=reference).first()
        if incident is None:
            raise forms.ValidationError(
                _("No published incident has the reference %(ref)s.") % {"ref": reference}
            )
        return incident


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is rejected"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Staff only: kept in the report's history."),
    )


class MergeForm(forms.Form):
    kept = forms.CharField(
        label=_("Reference of the incident to keep"),
        max_length=64,
        help_text=_("This incident's sources move to it, and this one is retracted as its duplicate."),
    )

    def clean_kept(self):
        reference = self.cleaned_data["kept"].strip()
        kept = Incident.objects.filter(PUBLISHED, reference=reference).first()
        if kept is None:
            raise forms.ValidationError(
                _("No published incident has the reference %(ref)s.") % {"ref": reference}
            )
        return kept


class SourceForm(forms.ModelForm):
    class Meta:
        model = Source
        fields = ["source_type", "url", "date", "note"]
        widgets = {
            "date": forms.DateInput(
                attrs={"type": "date", "min": EARLIEST_DATE.isoformat()}, format="%Y-%m-%d"
            ),
            "url": forms.URLInput(attrs={"placeholder": "https://"}),
        }

    def clean_date(self):
        day = self.cleaned_data["date"]
        if day and not EARLIEST_DATE <= day <= today_utc():
            raise forms.ValidationError(
                _("Give a date between %(earliest)s and today.") % {"earliest": EARLIEST_DATE}
            )
        return day
