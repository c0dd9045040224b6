import datetime

import factory

from incidents import choices
from incidents.models import Courthouse, Incident, PolicyEvent


class CourthouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Courthouse

    name = factory.Sequence(lambda n: f"Test Courthouse {n}")
    city = "Brooklyn"
    address = "120 Schermerhorn Street"
    county_id = "36047"

    class Params:
        texas = factory.Trait(city="El Paso", county_id="48141")
        california = factory.Trait(city="Los Angeles", county_id="06037")


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    date = datetime.date(2019, 5, 14)
    courthouse = factory.SubFactory(CourthouseFactory)
    case_type = choices.CaseType.CRIMINAL
    outcome = choices.Outcome.ARRESTED
    people_count = 1
    person_role = choices.PersonRole.DEFENDANT
    location = choices.Location.INSIDE
    agency = choices.Agency.ICE
    warrant = choices.Warrant.ADMINISTRATIVE
    verification = choices.Verification.VERIFIED
    source_type = choices.SourceType.ATTORNEY
    summary = "Agents arrested a defendant in the hallway."

    class Params:
        attempted = factory.Trait(outcome=choices.Outcome.ATTEMPTED, people_count=0)
        observed = factory.Trait(outcome=choices.Outcome.OBSERVED, people_count=0)
        month_only = factory.Trait(date_precision=choices.DatePrecision.MONTH, date=datetime.date(2019, 5, 1))
        retracted = factory.Trait(
            status=choices.Status.RETRACTED,
            retraction_reason="Duplicate report",
            retraction_public_reason=choices.RetractionReason.DUPLICATE,
            last_change=choices.Change.RETRACTED,
        )


class PolicyEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyEvent

    date = datetime.date(2019, 4, 17)
    state_id = "NY"
    title = "Judicial-warrant directive"
