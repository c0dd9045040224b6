"""Settings for the Courthouse ICE Arrest Tracker, read from the environment.

Every variable is documented in README.md and .env.example. A bad value stops
start-up with one clear line instead of a traceback.
"""

import datetime
import os
import sys
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def _fail(message):
    sys.stderr.write(f"Configuration error: {message}\n")
    raise SystemExit(2)


def env_bool(name, default):
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    _fail(f"{name} must be true or false, not {value!r}")


def env_list(name, default):
    value = os.environ.get(name, "")
    items = [item.strip() for item in value.split(",") if item.strip()]
    return items or default


def env_int(name, default):
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        _fail(f"{name} must be a whole number, not {value!r}")


def database_from_url(url, name="DATABASE_URL"):
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60))
    except Exception as exc:  # dj_database_url raises several types for one problem
        _fail(f"{name} is not a valid database URL ({exc})")
    engine = config.get("ENGINE", "")
    if engine not in ("django.db.backends.sqlite3", "django.db.backends.postgresql"):
        _fail(f"{name} must start with sqlite:// or postgres://")
    if not config.get("NAME"):
        _fail(f"{name} names no database")
    if engine.endswith("sqlite3"):
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            # Readers never wait for a writer (WAL); a write transaction takes the
            # write lock when it begins, so two writers queue for the busy timeout
            # instead of one failing with "database is locked" halfway through.
            "init_command": "PRAGMA journal_mode=WAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    else:
        # A parallel query takes a second core to answer one request sooner. Under
        # a worker pool that already keeps every core busy it only adds start-up
        # work: at 1M incidents, q= a rare word answers 28 requests a second on
        # two cores without it and 13 with it. Opt in for a lone analyst's database.
        workers = env_int("DJANGO_PG_PARALLEL_WORKERS", 0)
        options = config.setdefault("OPTIONS", {})
        setting = f"-c max_parallel_workers_per_gather={workers}"
        options["options"] = f"{options['options']} {setting}" if options.get("options") else setting
    return config


DEBUG = env_bool("DJANGO_DEBUG", False)
# Test servers speak plain HTTP, so the HTTPS-only settings below default off under pytest.
RUNNING_TESTS = "pytest" in sys.modules

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        _fail("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false")
    SECRET_KEY = "django-insecure-development-key-only-used-while-debugging"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "simple_history",
    "axes",
    "incidents.apps.IncidentsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "incidents.middleware.ContentSecurityPolicyMiddleware",
    "incidents.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "incidents.middleware.CompressPagesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "incidents.middleware.FirstVisitLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # last, as django-axes requires
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.i18n",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "incidents.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A PostgreSQL streaming replica for anonymous public reads (incidents/routers.py).
# Staff and anyone who has written in the last DATABASE_REPLICA_PIN_SECONDS read
# the primary; set it above the replica's worst lag.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "").strip()
DATABASE_REPLICA_PIN_SECONDS = env_int("DATABASE_REPLICA_PIN_SECONDS", 10)
if DATABASE_REPLICA_URL:
    if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
        _fail("DATABASE_REPLICA_URL needs a PostgreSQL DATABASE_URL")
    DATABASES["replica"] = database_from_url(DATABASE_REPLICA_URL, "DATABASE_REPLICA_URL")
    if DATABASES["replica"]["ENGINE"] != DATABASES["default"]["ENGINE"]:
        _fail("DATABASE_REPLICA_URL must start with postgres://")
    # The test run has one database; the replica alias reads it.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["incidents.routers.ReplicaRouter"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "incidents.routers.ReplicaPinningMiddleware",
    )


# Chart aggregates and public pages are cached per data version, which lives in the
# database (incidents/cache.py), so no cache can serve stale figures after a write.
# PostgreSQL: the database cache, shared by every app server. SQLite serves from one
# machine: each process keeps its own least-recently-used entries in memory, so that
# an anonymous read never writes to the database file (a write there locks it).
ONE_MACHINE = DATABASES["default"]["ENGINE"].endswith("sqlite3")
CACHES = {
    "default": {
        # incidents/cachebackend.py: Django's database cache, one statement per write.
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache"
        if ONE_MACHINE
        else "incidents.cachebackend.DatabaseCache",
        "LOCATION": "tracker" if ONE_MACHINE else "tracker_cache",
        "TIMEOUT": 24 * 3600,
        "OPTIONS": {"MAX_ENTRIES": env_int("DJANGO_CACHE_MAX_ENTRIES", 2000 if ONE_MACHINE else 20000)},
    }
}
# Redis instead, when several app servers would otherwise make the cache table the
# primary's busiest (needs the `redis` package).
CACHE_URL = os.environ.get("CACHE_URL", "").strip()
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        _fail("CACHE_URL must start with redis://, rediss:// or unix://")
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
        "TIMEOUT": 24 * 3600,
    }

# Public pages for anonymous visitors are served from that cache until the next write
# (incidents/cache.py, public_page).
PUBLIC_PAGE_CACHE = env_bool("DJANGO_PAGE_CACHE", True)
# After a write, a page built at most this many seconds before is answered as it was
# while it is rebuilt after that answer (writes are coming often); an older one is
# rebuilt before the answer. 0: every page after a write is rebuilt first.
PAGE_STALE_SECONDS = env_int("DJANGO_PAGE_STALE_SECONDS", 5)
# ...and, meanwhile, rebuilt at most this often (a dashboard costs about 1 s of a worker
# at 100,000 incidents; edits can come several a second).
PAGE_REBUILD_SECONDS = env_int("DJANGO_PAGE_REBUILD_SECONDS", 1)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# History is read per object (by its id), never across objects by date: an index on
# history_date would only cost every write, a bulk import most.
SIMPLE_HISTORY_DATE_INDEX = False

# Login throttling (django-axes): a username+IP pair is locked for 15 minutes after
# 5 failures; every failure is logged by the "axes" logger. Behind a load balancer set
# DJANGO_PROXY_COUNT to the number of proxies in front, so that the client address is
# read from X-Forwarded-For; without proxies that header is ignored (it could be forged).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# django-axes reads X-Forwarded-For only through django-ipware, which is not installed;
# incidents/addresses.py reads it (the report form's hourly limit counts the same way).
PROXY_COUNT = env_int("DJANGO_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "incidents.addresses.client_address"

# Named addresses: each is reversed in the visitor's language (/es/accounts/login/).
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "dashboard"

# English pages are unprefixed, Spanish ones under /es/ (README, "Languages").
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LANGUAGE_COOKIE_NAME = "language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["tracker.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_MAX_AGE = 365 * 24 * 3600 if not DEBUG else 0

# HTTPS: secure cookies, HSTS and the redirect to https. DJANGO_SSL_REDIRECT=false when a
# proxy in front does the redirect; DJANGO_TRUST_X_FORWARDED_PROTO=true when that proxy
# terminates TLS and sets X-Forwarded-Proto (never set it without such a proxy).
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG and not RUNNING_TESTS)
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", HTTPS)
# Load balancers probe /healthz over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env_bool("DJANGO_TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = bool(SECURE_HSTS_SECONDS)
# Preloading is hard to undo (browsers ship the list for months), so only on request;
# Django's deploy check would otherwise warn that it is off.
SECURE_HSTS_PRELOAD = bool(SECURE_HSTS_SECONDS) and env_bool("DJANGO_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Everything from our own origin only: no CDN, no inline script, no eval. Plotly sets
# inline styles, hence 'unsafe-inline' for styles alone; PNG downloads use data:/blob:.
_CSP_SOURCES = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
]
CONTENT_SECURITY_POLICY = "; ".join([*_CSP_SOURCES, "frame-ancestors 'none'"])
# /embed/<chart>/ alone may be shown in a frame, by any site (incidents/views/embed.py).
EMBED_CONTENT_SECURITY_POLICY = "; ".join([*_CSP_SOURCES, "frame-ancestors *"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # axes announces itself at every start; its failure and lockout lines are warnings.
    "loggers": {"axes.apps": {"level": "WARNING"}},
}

# Import limits: a file larger than this is refused with a clear message.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 200 * 1024 * 1024)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 1_000_000)
# Where an uploaded file waits between the import's preview and its confirmation
# (default: a folder in the system's temporary directory). With several app servers
# it must be a folder they share.
IMPORT_UPLOAD_DIR = os.environ.get("IMPORT_UPLOAD_DIR", "")
# Where `manage.py publish_release` writes the numbered data releases that
# /data/releases/ serves (default: releases/ at the project root). With several app
# servers it must be a folder they share.
RELEASES_DIR = Path(os.environ.get("RELEASES_DIR", "").strip() or BASE_DIR / "releases")
# The site's public address (https://tracker.example.org/), which a release's citation
# and data package name; `publish_release` needs it (or --site-url).
SITE_URL = os.environ.get("SITE_URL", "").strip()
# The licence the data packages name: CC-BY-4.0, CC0-1.0 or ODbL-1.0 (incidents/releases.py).
DATA_LICENSE = os.environ.get("DATA_LICENSE", "").strip() or "CC-BY-4.0"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
