from .models import Incident


def site(request):
    """The demo banner shows on every page while any demo incident exists.

    A callable, so that only a template showing the banner asks the database: the
    error pages do not, and must render while the database is gone.
    """
    return {"demo_data_present": Incident.objects.demo().exists}
