from .feeds import feed_url
from .models import Incident


def site(request):
    """The demo banner shows on every page while any demo incident exists; a page with filters
    names its Atom feed for autodiscovery."""
    return {"demo_data_present": Incident.objects.demo().exists(), "atom_feed_url": feed_url(request)}
