from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .cache import bump_data_version
from .models import Courthouse, CoverageChange, Incident, PolicyEvent, Source
from .services import PRIVATE_WRITE


@receiver([post_save, post_delete], sender=Incident)
@receiver([post_save, post_delete], sender=Source)
@receiver([post_save, post_delete], sender=Courthouse)
@receiver([post_save, post_delete], sender=PolicyEvent)
@receiver([post_save, post_delete], sender=CoverageChange)
def data_changed(update_fields=None, **kwargs):
    # A staff-only correction changes nothing a visitor sees: no cached page needs to go.
    if update_fields and update_fields <= PRIVATE_WRITE:
        return
    bump_data_version()
