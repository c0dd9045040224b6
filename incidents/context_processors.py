from .models import Incident
from .views.feeds import feed_url
from .views.language import language_links


def site(request):
    """The demo banner shows on every page while any demo incident exists; a page with filters
    names its Atom feed for autodiscovery; every page links to itself in each language.

    The banner test is a callable, so that only a template showing the banner asks the
    database: the error pages do not, and must render while the database is gone.
    """
    return {
        "demo_data_present": Incident.objects.demo().exists,
        "atom_feed_url": feed_url(request),
        "language_links": language_links(request),
    }
