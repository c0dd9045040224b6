from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path

from incidents.urls import machine_urlpatterns


def favicon(request):
    # Browsers ask for /favicon.ico on every page, the admin's included.
    return redirect(static("favicon.svg"), permanent=True)


# Addresses for programs and the admin stay unprefixed; pages for people are in
# English without a prefix and in Spanish under /es/ (README, "Languages").
urlpatterns = [
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    *machine_urlpatterns,
]

urlpatterns += i18n_patterns(
    # Sign-in and sign-out only: there is no password reset by email (no mail is
    # configured); an administrator sets a new password (README, "Staff").
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("incidents.urls")),
    prefix_default_language=False,
)
