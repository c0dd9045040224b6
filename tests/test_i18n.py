"""English and Spanish: the catalogue is whole, Spanish pages hold no English UI string,
addresses name their language, and the machine values stay the same in both."""

import datetime
import json
import re
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from incidents import choices, export, translations
from incidents.models import County, Courthouse, CoverageChange, Incident, PolicyEvent, ReferenceFigure, State

from .factories import CourthouseFactory, IncidentFactory
from .test_permissions import entry_data

# -- the catalogue ------------------------------------------------------------------


@pytest.mark.parametrize("language", translations.languages())
@pytest.mark.parametrize("domain", translations.DOMAINS)
def test_every_entry_of_every_catalogue_is_translated_and_none_is_fuzzy(language, domain):
    found = translations.entries(translations.catalogue(language, domain))
    assert found
    assert [e.msgid for e in found if not e.translated or e.fuzzy] == []


def test_makemessages_would_add_no_string_and_drop_none():
    """Python, templates and static/js (djangojs): every translatable string is in the catalogue."""
    assert translations.differences() == {}


def test_the_check_finds_a_string_the_catalogue_lacks(settings, tmp_path):
    """The check above can fail: a template with a new string is reported."""
    probe = settings.BASE_DIR / "templates" / "_translation_probe.html"
    probe.write_text('{% load i18n %}{% translate "A string nobody translated yet" %}')
    try:
        found = translations.differences()
    finally:
        probe.unlink()
    added, dropped = found[("es", "django")]
    assert [msgid for _context, msgid, _plural in added] == ["A string nobody translated yet"]
    assert dropped == []


def test_a_fuzzy_or_empty_entry_is_found(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr "Language: es\\n"\n\n#, fuzzy\nmsgid "Gone"\nmsgstr "Ido"\n\n'
        'msgid "New"\nmsgstr ""\n\nmsgid "%(n)s row"\nmsgid_plural "%(n)s rows"\nmsgstr[0] "x"\nmsgstr[1] ""\n',
        encoding="utf-8",
    )
    found = translations.entries(po)
    assert [(e.msgid, e.translated, e.fuzzy) for e in found] == [
        ("Gone", True, True),
        ("New", False, False),
        ("%(n)s row", False, False),
    ]


# -- no English on Spanish pages ------------------------------------------------------

SKIPPED_TAGS = {"script", "style", "code", "template"}
VOID_TAGS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
SHOWN_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt", "data-summary")
FIGURE_TEXT_KEYS = {"text", "name", "hovertemplate", "hovertext", "ticktext"}


class ShownText(HTMLParser):
    """The text a reader sees or hears: text nodes, labels read aloud, chart labels.
    Left out: <code> (machine values), and anything marked with a language other than Spanish."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.stack, self.json = [], [], None

    def skipping(self):
        return any(skip for _tag, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        foreign = attrs.get("lang", "es") != "es"
        skip = foreign or tag in SKIPPED_TAGS
        if tag == "script" and attrs.get("type") == "application/json" and not self.skipping():
            self.json = []
        if not self.skipping() and not skip:
            self.parts += [attrs[name] for name in SHOWN_ATTRIBUTES if attrs.get(name)]
            if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                self.parts.append(attrs["value"])
        if tag not in VOID_TAGS:
            self.stack.append((tag, skip))

    def handle_endtag(self, tag):
        if tag == "script" and self.json is not None:
            self.parts += figure_texts(json.loads("".join(self.json)))
            self.json = None
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self.json is not None:
            self.json.append(data)
        elif not self.skipping():
            self.parts.append(data)


def figure_texts(value, key=None):
    if isinstance(value, dict):
        return [text for k, v in value.items() if k not in ("meta", "locale") for text in figure_texts(v, k)]
    if isinstance(value, list):
        return [text for v in value for text in figure_texts(v, key)]
    if isinstance(value, str) and key in FIGURE_TEXT_KEYS:
        return [re.sub(r"%\{[^}]*\}|<[^>]+>", " ", value)]
    return []


def shown_text(html):
    parser = ShownText()
    parser.feed(html)
    return " \n ".join(parser.parts)


def data_strings():
    """What people and sources wrote (names, summaries, event titles, published figures): shown as they are."""
    values = [
        *State.objects.values_list("name", flat=True),
        *County.objects.values_list("name", flat=True),
        *Courthouse.objects.values_list("name", "city", "address"),
        *Incident.objects.values_list("summary", "reference", "source_url"),
        *PolicyEvent.objects.values_list("title", flat=True),
        *CoverageChange.objects.values_list("note", flat=True),
        # figures others published, in their own words (the dashboard's "Published figures beside ours")
        *ReferenceFigure.objects.values_list("publisher", "title", "area", "definition"),
    ]
    flat = [v for value in values for v in (value if isinstance(value, tuple) else (value,)) if v]
    return sorted(set(flat), key=len, reverse=True)


def _shortened(line, data):
    return line.endswith("…") and any(value.startswith(line[:-1]) for value in data)


PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|%[sd]|<[^>]+>|&\w+;|…")


def english_phrases():
    """Every piece of English text of the catalogue whose Spanish differs, split at placeholders
    and markup; only pieces with a word of three letters or more."""
    phrases = set()
    for entry in translations.entries(translations.catalogue("es")):
        if entry.msgid in entry.translations:
            continue
        for source in (entry.msgid, entry.plural):
            for piece in PLACEHOLDER.split(source):
                piece = piece.strip(" .,:;()\"'“”")
                # A piece the translation keeps as it is ("UTC", "Frictionless Data") is not English left over.
                kept = any(piece in translation for translation in entry.translations)
                if re.search(r"[A-Za-z]{3}", piece) and not kept:
                    phrases.add(piece)
    return phrases


# Machine text shown on purpose: addresses, filter parameters (state=NY), quoted literals,
# and the CSV's column names, which are the same in every language.
MACHINE_TEXT = re.compile(r'\S*/\S*|\b\w+=\S*|"[^"\n]*"|\b(?:' + "|".join(export.COLUMNS) + r")\b")


def english_left(html, data):
    # Names shortened on a chart's axis ("Criminal Ju…") are data too.
    lines = [line for line in shown_text(html).split("\n") if not _shortened(line.strip(), data)]
    text = "\n".join(lines)
    for value in data:
        text = text.replace(value, " ")
    text = MACHINE_TEXT.sub(" ", text)
    return sorted(
        phrase
        for phrase in english_phrases()
        if re.search(r"(?<![\w-])" + re.escape(phrase) + r"(?![\w-])", text)
    )


@pytest.fixture
def demo_data(db):
    call_command("load_demo_data", verbosity=0)


def test_spanish_pages_with_demo_data_hold_no_english_ui_string(demo_data, client, superuser):
    incident = Incident.objects.order_by("-date").first()
    data = data_strings()
    pages = {
        "dashboard": "/es/",
        "list": "/es/incidents/?ordering=-date",
        "detail": f"/es/incidents/{incident.pk}/",
        "data": "/es/data/",
        "filters with errors": "/es/incidents/?date_after=nonsense&state=ZZ",
        "courthouse": f"/es/courthouses/{incident.courthouse.slug}/",
        "api": "/es/api/",
        "embed": "/es/embed/month/",
        "releases": "/es/data/releases/",
    }
    found = {}
    for name, path in pages.items():
        response = client.get(path)
        assert response.status_code == (400 if "errors" in name else 200), path
        assert '<html lang="es">' in response.content.decode()
        found[name] = english_left(response.content.decode(), data)
    client.force_login(superuser)
    for name, path in {
        "import": "/es/incidents/import/",
        "review": f"/es/incidents/{incident.pk}/review/",
        "withdraw": f"/es/incidents/{incident.pk}/withdraw/",
        "staff list": "/es/staff/incidents/",
    }.items():
        response = client.get(path)
        assert response.status_code == 200, path
        found[name] = english_left(response.content.decode(), data)
    data += [value for value in entry_data().values() if value]
    response = client.post("/es/incidents/new/", {**entry_data(), "date": "2099-01-01", "people_count": "x"})
    assert response.status_code == 200 and "field-error" in response.content.decode()
    found["form with errors"] = english_left(response.content.decode(), data)
    assert found == {name: [] for name in found}, found


def test_the_check_finds_english_left_on_a_page(db):
    """The check above can fail: an English string of the catalogue on a Spanish page is found."""
    page = '<html lang="es"><p>Filtros</p><p>Apply filters</p><p lang="en">Download PNG</p><code>Staff</code></html>'
    assert "Apply filters" in english_left(page, [])
    assert "Download PNG" not in english_left(page, []) and "Staff" not in english_left(page, [])


# -- addresses ------------------------------------------------------------------------


@pytest.fixture
def two_incidents(db):
    IncidentFactory(courthouse=CourthouseFactory(name="Brooklyn Criminal Court"))
    IncidentFactory(
        courthouse=CourthouseFactory(name="El Paso County Courthouse", texas=True), attempted=True
    )


def test_english_is_unprefixed_and_spanish_is_under_es(two_incidents, client):
    english, spanish = client.get("/incidents/"), client.get("/es/incidents/")
    assert '<html lang="en">' in english.content.decode()
    assert '<html lang="es">' in spanish.content.decode()
    assert "Apply filters" in english.content.decode()
    assert "Aplicar filtros" in spanish.content.decode()
    assert client.get("/en/incidents/").status_code == 404


def test_machine_addresses_stay_unprefixed(two_incidents, client):
    for path in ("/api/stats/?by=outcome", "/api/incidents/", "/incidents/export.csv", "/healthz"):
        assert client.get(path).status_code == 200, path
        assert client.get("/es" + path).status_code == 404, path
    assert client.get("/es/feeds/incidents.atom").status_code == 200


def test_every_page_names_its_alternates_and_the_switcher_keeps_page_and_filters(two_incidents, client):
    html = client.get("/incidents/?state=NY&outcome=arrested").content.decode()
    assert (
        '<link rel="alternate" hreflang="en" href="http://testserver/incidents/?state=NY&amp;outcome=arrested">'
        in html
    )
    assert (
        '<link rel="alternate" hreflang="es" href="http://testserver/es/incidents/?state=NY&amp;outcome=arrested">'
        in html
    )
    switch = (
        reverse("switch_language", args=["es"]) + "?next=%2Fincidents%2F%3Fstate%3DNY%26outcome%3Darrested"
    )
    assert f'href="{switch.replace("&", "&amp;")}"' in html
    response = client.get(switch)
    assert response.status_code == 302
    assert response["Location"] == "/es/incidents/?state=NY&outcome=arrested"
    assert response.cookies["language"].value == "es"
    back = client.get("/language/en/?next=/es/incidents/%3Fstate%3DNY")
    assert back["Location"] == "/incidents/?state=NY"


@pytest.mark.parametrize(
    "address", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "", "\x00"]
)
def test_the_switcher_never_leaves_the_site(client, db, address):
    response = client.get("/language/es/", {"next": address})
    assert response.status_code == 302 and response["Location"] == "/es/"


def test_an_unknown_language_is_not_found(client, db):
    assert client.get("/language/fr/?next=/").status_code == 404


def test_accept_language_decides_only_for_a_first_visit_to_the_dashboard(two_incidents, client):
    first = client.get("/?state=NY", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9,en;q=0.5")
    assert first.status_code == 302 and first["Location"] == "/es/?state=NY"
    assert "Accept-Language" in first["Vary"]
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").status_code == 200
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="fr, *").status_code == 200
    # Any other address names its language.
    assert '<html lang="en">' in client.get("/incidents/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    # A language chosen with the switcher wins over the browser's.
    client.cookies["language"] = "en"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="es").status_code == 200
    client.cookies["language"] = "es"
    assert client.get("/").status_code == 302


def test_the_page_cache_keeps_each_language_apart(two_incidents, client, settings):
    settings.PUBLIC_PAGE_CACHE = True
    cache.clear()
    for _ in range(2):  # the second round is served from the cache
        english, spanish = client.get("/").content.decode(), client.get("/es/").content.decode()
        assert "Attempted arrest" in english and "Intento de arresto" not in english
        assert "Intento de arresto" in spanish and "Attempted arrest" not in spanish


def test_counts_cached_for_a_spanish_page_keep_english_labels_for_programs(two_incidents, client):
    """The counts behind the charts are cached with their labels, so once per language."""
    assert "Intento de arresto" in client.get("/es/").content.decode()
    labels = {row["label"] for row in client.get("/api/stats/?by=outcome").json()["results"]}
    assert labels == {"Arrested", "Attempted arrest"}
    assert "Intento de arresto" not in client.get("/").content.decode()


def test_a_link_copied_from_the_spanish_site_filters_the_same_rows(two_incidents, client):
    query = "?outcome=attempted&state=TX&ordering=-date"
    english = client.get("/incidents/" + query).content.decode()
    spanish = client.get("/es/incidents/" + query).content.decode()
    assert 'data-summary="1 incident"' in english
    assert 'data-summary="1 incidente"' in spanish
    # Choice labels are translated; the values in the form and the links are not.
    assert 'value="attempted"' in spanish and "Intento de arresto" in spanish


# -- charts and numbers -----------------------------------------------------------------


def test_spanish_charts_carry_spanish_months_and_separators(demo_data, client):
    html = client.get("/es/").content.decode()
    figure = json.loads(
        re.search(r'<script id="chart-month-data" type="application/json">(.*?)</script>', html).group(1)
    )
    locale = figure["locale"]["format"]
    assert locale["shortMonths"][10] == "nov" and locale["months"][0] == "enero"
    assert (locale["decimal"], locale["thousands"]) == (",", ".")
    assert figure["layout"]["yaxis"]["title"]["text"] == "Incidentes"
    assert "Fuente: " in html and "filtros: ninguno" in html
    assert "locale" not in json.loads(
        re.search(
            r'<script id="chart-month-data" type="application/json">(.*?)</script>',
            client.get("/").content.decode(),
        ).group(1)
    )


def test_months_in_tables_and_dates_of_the_data_are_spanish(two_incidents, client):
    """The month table under the chart and the "data as of" line: "nov 2026", not "Nov 2026"."""
    from incidents.cache import data_state
    from incidents.stats import month_label

    moment = data_state().changed_at
    day = datetime.date(2026, 11, 1)
    with translation.override("es"):
        spanish_month, spanish_day = month_label(day), date_format(moment, "j b Y")
    with translation.override("en"):
        english_month, english_day = month_label(day), date_format(moment, "j M Y")
    assert (spanish_month, english_month) == ("nov 2026", "Nov 2026")
    assert "Datos al <time datetime=" in client.get("/es/").content.decode()
    assert f">{spanish_day}, " in client.get("/es/incidents/").content.decode()
    assert f">{english_day}, " in client.get("/incidents/").content.decode()


def test_numbers_follow_the_language(demo_data, client):
    total = Incident.objects.count()
    assert total >= 1000
    assert f"{total:,}" in client.get("/").content.decode()
    assert f"{total:,}".replace(",", ".") in client.get("/es/").content.decode()


# -- the language of a summary --------------------------------------------------------------


def test_staff_record_the_language_of_a_summary_and_the_page_marks_it(db, client, superuser):
    CourthouseFactory()
    client.force_login(superuser)
    data = {
        **entry_data(),
        "summary": "Agentes arrestaron a un acusado en el pasillo.",
        "summary_language": "es",
    }
    assert client.post("/incidents/new/", data).status_code == 302
    incident = Incident.objects.get()
    assert incident.summary_language == choices.SummaryLanguage.SPANISH
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert '<dd lang="es">Agentes arrestaron' in html


def test_a_summary_without_a_language_is_english(db, client, superuser):
    CourthouseFactory()
    client.force_login(superuser)
    assert client.post("/incidents/new/", entry_data()).status_code == 302
    assert Incident.objects.get().summary_language == "en"
    response = client.post("/incidents/new/", {**entry_data(), "summary_language": "fr"})
    assert response.status_code == 200 and "summary_language" in response.context["form"].errors


def test_the_language_of_a_summary_is_not_a_csv_column(two_incidents, client):
    header = b"".join(client.get("/incidents/export.csv").streaming_content).decode().splitlines()[0]
    assert "summary_language" not in header


def test_import_messages_follow_the_language(db, staff_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("x.csv", b"nonsense\n1\n", content_type="text/csv")
    html = staff_client.post("/es/incidents/import/", {"file": upload}).content.decode()
    assert "línea 1, columna nonsense: no es una columna de este formato" in html
    assert "línea 1, columna date: falta esta columna; es obligatoria" in html


def test_error_pages_and_retraction_notices_are_in_the_language_of_the_address(db, client):
    missing = client.get("/es/no-such-page/")
    assert missing.status_code == 404
    html = missing.content.decode()
    assert '<html lang="es">' in html and "Página no encontrada" in html and 'href="/es/"' in html
    retracted = IncidentFactory(retracted=True)
    html = client.get(f"/es/incidents/{retracted.pk}/").content.decode()
    assert f"El reporte {retracted.reference} fue retirado" in html
    assert "Motivo: Duplicado de otro reporte." in html
    assert "Report " not in html.split("<main")[1]
