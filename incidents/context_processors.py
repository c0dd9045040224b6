from .models import Incident


def site(request):
    """The demo banner shows on every page while any demo incident exists."""
    return {"demo_data_present": Incident.objects.demo().exists()}
