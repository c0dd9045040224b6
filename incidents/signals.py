from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .cache import bump_data_version
from .models import Courthouse, CoverageChange, Incident, PolicyEvent


@receiver([post_save, post_delete], sender=Incident)
@receiver([post_save, post_delete], sender=Courthouse)
@receiver([post_save, post_delete], sender=PolicyEvent)
@receiver([post_save, post_delete], sender=CoverageChange)
def data_changed(**kwargs):
    bump_data_version()
