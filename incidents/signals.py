from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

from .cache import bump_data_version
from .models import Courthouse, CoverageChange, Incident, PolicyEvent, ReferenceFigure, Source
from .services import PRIVATE_WRITE


@receiver([post_save, post_delete], sender=Incident)
@receiver([post_save, post_delete], sender=Source)
@receiver([post_save, post_delete], sender=Courthouse)
@receiver([post_save, post_delete], sender=PolicyEvent)
@receiver([post_save, post_delete], sender=CoverageChange)
@receiver([post_save, post_delete], sender=ReferenceFigure)
@receiver(m2m_changed, sender=ReferenceFigure.counties.through)
def data_changed(update_fields=None, **kwargs):
    # A staff-only correction changes nothing a visitor sees: no cached page needs to go.
    if update_fields and update_fields <= PRIVATE_WRITE:
        return
    bump_data_version()


@receiver(pre_create_historical_record, sender=Incident.history.model)
def public_note(instance=None, history_instance=None, **kwargs):
    """The public reason of a correction (services.update_incident) goes on its history row only."""
    history_instance.public_note = getattr(instance, "_public_note", "") or None
    instance._public_note = ""
