import functools

from .http import as_of
from .models import Incident
from .views.feeds import feed_url
from .views.language import language_links


def site(request):
    """The demo banner shows on every page while any demo incident exists; a page with filters
    names its Atom feed for autodiscovery; a public page says when its data last changed;
    every page links to itself in each language.

    The banner test is a callable, so that only a template showing the banner asks the
    database: the error pages do not, and must render while the database is gone.
    """
    return {
        "demo_data_present": Incident.objects.demo().exists,
        "atom_feed_url": feed_url(request),
        # Public pages only (http.public_data marks them), read once with their version.
        "data_as_of": functools.partial(as_of, request) if getattr(request, "public_data", False) else None,
        "language_links": language_links(request),
    }
