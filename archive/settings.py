"""Settings for the war-coverage archive, read from the environment.

Every variable is listed in .env.example. Bad values fail loudly at start-up:
a misspelt boolean is an error, not silently False.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from archive.env import env_bool, env_int, env_list, env_rate, env_str

BASE_DIR = Path(__file__).resolve().parent.parent


def _local_secret_key(path: Path) -> str:
    """For the zero-configuration install only: a random key made once, kept git-ignored."""
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DATABASE_URL = env_str("DATABASE_URL")
DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if DATABASE_URL:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DATABASE_URL is set (or SECRET_KEY_FILE naming a file)"
        )
    SECRET_KEY = _local_secret_key(BASE_DIR / ".secret_key")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
else:
    from archive.embedded_db import data_directory, embedded_database_settings

    DATABASES = {"default": embedded_database_settings(data_directory(env_str("PGDATA_DIR")))}
# Persistent connections, checked before reuse so a restarted database is
# picked up again without restarting gunicorn.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True


def _replica_databases(raw: str, default: dict) -> dict[str, dict]:
    """DATABASES entries replica1, replica2, ... for comma- or newline-separated URLs."""
    replicas = {}
    for number, url in enumerate((u for u in re.split(r"[,\s]+", raw) if u), start=1):
        try:
            replica = dj_database_url.parse(url)
        except ValueError as exc:
            # The URL itself is not repeated: it may hold a password.
            raise ImproperlyConfigured(
                f"DATABASE_REPLICA_URLS: entry {number} is not a database URL ({exc})"
            ) from exc
        if replica["ENGINE"] != default["ENGINE"]:
            raise ImproperlyConfigured(
                f"DATABASE_REPLICA_URLS: entry {number} is not PostgreSQL: a replica is a "
                "streaming standby of the primary"
            )
        replicas[f"replica{number}"] = {
            **replica,
            "CONN_MAX_AGE": default["CONN_MAX_AGE"],
            "CONN_HEALTH_CHECKS": default["CONN_HEALTH_CHECKS"],
            # The test runner makes no database on a replica: in tests it is default.
            "TEST": {"MIRROR": "default"},
        }
    return replicas


# Read replicas (streaming standbys of default), docs/scaling.md. Anonymous public
# GET requests read from one of them (archive/db_router.py); writes, the admin,
# signed-in staff and management commands use default. With none there is no
# router: everything is on default.
DATABASES.update(_replica_databases(env_str("DATABASE_REPLICA_URLS"), DATABASES["default"]))
DATABASE_REPLICAS = [alias for alias in DATABASES if alias != "default"]
DATABASE_ROUTERS = ["archive.db_router.PrimaryReplicaRouter"] if DATABASE_REPLICAS else []

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_filters",
    "articles",
    "archive",  # only for its migration: the rate limiter's counter table
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "archive.middleware.SecurityHeadersMiddleware",
    "archive.middleware.RateLimitMiddleware",
    "archive.middleware.LoginThrottleMiddleware",
    "archive.middleware.DatabaseUnavailableMiddleware",
    # Anonymous GET/HEAD reads go to a replica when DATABASE_REPLICA_URLS names any.
    "archive.db_router.ReplicaReadsMiddleware",
]

ROOT_URLCONF = "archive.urls"
WSGI_APPLICATION = "archive.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
# The archive is in English only: no translation machinery behind every date and
# string a page shows. Dates keep LANGUAGE_CODE's (British) formats.
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    # No collectstatic needed while developing.
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Security: safe defaults, stricter ones switched on from the environment.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
# With DATABASE_URL set and DEBUG off the archive is deployed: HTTPS-only
# defaults, each of which can be switched off from the environment.
PRODUCTION = bool(DATABASE_URL) and not DEBUG
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
# Load balancers probe health over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Preload lists are a one-way commitment for the whole domain: an operator opts
# in with SECURE_HSTS_PRELOAD=true, so its reminder is not a warning here.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    # Only behind a proxy that sets X-Forwarded-Proto itself.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Rate limits per client address (archive/ratelimit.py), "N/period" or "off".
# Public search and the API are limited in production only by default: a local
# `make run` or the test suite should never be told to slow down.
RATE_LIMIT_SEARCH = env_rate("RATE_LIMIT_SEARCH", "60/minute" if PRODUCTION else "off")
RATE_LIMIT_API = env_rate("RATE_LIMIT_API", "60/minute" if PRODUCTION else "off")
# Failed admin sign-ins per user name and client address: always on.
LOGIN_RATE_LIMIT = env_rate("LOGIN_RATE_LIMIT", "5/15minutes")
# How many reverse proxies in front append to X-Forwarded-For. 0: the header is
# ignored (anyone can send it) and REMOTE_ADDR is the client.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")

# Search results and the home page's figures are cached for this long at most
# (articles/cache.py: any change to the archive makes them out of date at once);
# 0 turns the cache off. The cache is a table in the archive's database (created by
# a migration), shared by every worker and web server.
RESULT_CACHE_SECONDS = env_int("RESULT_CACHE_SECONDS", 300)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "archive_cache",
        "OPTIONS": {"MAX_ENTRIES": env_int("RESULT_CACHE_ENTRIES", 5000)},
    }
}

# Which search backend answers searches (articles/search/backends/): "postgres",
# PostgreSQL full-text search in the archive's own database, or "tantivy", an
# embedded search engine whose index (in SEARCH_INDEX_DIR) follows the database.
# After switching to tantivy, run `manage.py rebuild_search_index` once.
SEARCH_BACKEND = env_str("SEARCH_BACKEND", "postgres")
if SEARCH_BACKEND not in {"postgres", "tantivy"}:
    raise ImproperlyConfigured(
        f"SEARCH_BACKEND must be postgres or tantivy, not {SEARCH_BACKEND!r}"
    )
SEARCH_INDEX_DIR = Path(env_str("SEARCH_INDEX_DIR") or BASE_DIR / ".search-index")

# Inputs larger than this are refused by the loader (the raw bytes are still kept).
INGEST_MAX_BYTES = env_int("INGEST_MAX_BYTES", 50 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
