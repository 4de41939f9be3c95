"""Settings: the environment is read here, and only here (django-environ).

Every variable is documented in the README's configuration table.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.statuses import parse_statuses

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local `.env` (created by `make run` from `.env.example`) is read when present; real
# environment variables always win over it.
# ENV_FILE points elsewhere (the test command uses /dev/null, so tests never see a local secret).
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Only DEBUG installs may run on the published development key; production must set one.
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = env("SECRET_KEY", default=DEV_SECRET_KEY)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# /api/ callers get a JSON 403; pages get one that says which setting to change.
CSRF_FAILURE_VIEW = "syncer.api.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_q",
    "axes",
    "csp",
    "logs",
    "mappings",
    "syncer",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Outside the session, CSRF and messages middleware: it sees the cookies they set.
    "config.middleware.PlainHttpCookiesMiddleware",
    "config.middleware.PrivateResponsesMiddleware",
    "config.middleware.RefuseNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF: its process_view decides whether a bearer caller skips the CSRF check
    # (request.user is already set then, by AuthenticationMiddleware's request phase).
    "config.access.StaffOrSecretRequiredMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "config.context_processors.app_status",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite by default, so a newcomer needs nothing; any postgres:// URL (Supabase included) uses
# psycopg 3.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the django-q worker share the file: WAL plus IMMEDIATE transactions
    # turn "database is locked" errors into short waits.
    _db["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True
    # Supabase's transaction pooler (port 6543, PgBouncer-style) cannot keep prepared
    # statements or server-side cursors between transactions.
    TRANSACTION_POOLER = env.bool("DATABASE_TRANSACTION_POOLER", default=str(_db.get("PORT")) == "6543")
    if TRANSACTION_POOLER:
        _db.setdefault("OPTIONS", {})["prepare_threshold"] = None
        _db["DISABLE_SERVER_SIDE_CURSORS"] = True
        _db["CONN_MAX_AGE"] = 0
    _db.setdefault("TEST", {})["NAME"] = env("TEST_DATABASE_NAME", default="anilist_trakt_test")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth and security ----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user and client before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    # Then: refuses an address that failed too often across user names (password spraying).
    "config.login.AddressLimitBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one user name
# from one client address, that pair is refused for LOGIN_LOCKOUT_MINUTES (README: unlocking).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# And after LOGIN_ADDRESS_FAILURE_LIMIT wrong passwords from one address whatever the user
# names, that address is refused for LOGIN_LOCKOUT_MINUTES (config/login.py).
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.login.locked_out"
# Only attempts and lockouts are recorded, not every successful login.
AXES_DISABLE_ACCESS_LOG = True

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True


def _tls_mode(value: str) -> bool | None:
    """BEHIND_TLS: true (every request is HTTPS: Render and Heroku set it), false (plain HTTP
    only), or unset: decided per request, so a home server on plain HTTP can log in."""
    value = value.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    return None


BEHIND_TLS = _tls_mode(env.str("BEHIND_TLS", default=""))
if BEHIND_TLS is not False:
    # A TLS-terminating proxy says so in X-Forwarded-Proto. A client forging it over plain HTTP
    # only gets cookies its browser then refuses to keep.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Unset BEHIND_TLS: `config.middleware.PlainHttpCookiesMiddleware` drops the Secure flag
    # from the cookies of a plain-HTTP request (a browser would not keep them, and the login's
    # CSRF check would fail); HTTPS requests keep it. Django sends HSTS on HTTPS requests only.
    SESSION_COOKIE_SECURE = not DEBUG or BEHIND_TLS is True
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 30)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    # Preloading is a decision about a whole domain, made at hstspreload.org (README: W021).
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    # Only a deploy that says every request is HTTPS may redirect plain HTTP to it.
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=BEHIND_TLS is True)
    # The platform's health check may call the app directly over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# `check --deploy` warnings answered in the README ("Security"): W021 (HSTS preload is
# the domain owner's choice) and, unless BEHIND_TLS=true, W008 (a plain-HTTP server cannot
# redirect to HTTPS).
SILENCED_SYSTEM_CHECKS = ["security.W021"] + ([] if BEHIND_TLS is True else ["security.W008"])

# Content-Security-Policy (django-csp): the pages run only their own scripts (htmx included),
# and no inline script or style; htmx's own indicator style is off (base.html) and in app.css.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Machine callers of /api/ send `Authorization: Bearer <API_TOKEN>`; /api/cron also accepts
# CRON_SECRET.
API_TOKEN = env("API_TOKEN", default="")
CRON_SECRET = env("CRON_SECRET", default="")
ADMIN_USERNAME = env("ADMIN_USERNAME", default="")
ADMIN_PASSWORD = env("ADMIN_PASSWORD", default="")

# --- Services -------------------------------------------------------------------------------
ANILIST_ACCESS_TOKEN = env("ANILIST_ACCESS_TOKEN", default="")
TRAKT_CLIENT_ID = env("TRAKT_CLIENT_ID", default="")
TRAKT_CLIENT_SECRET = env("TRAKT_CLIENT_SECRET", default="")
TRAKT_ACCESS_TOKEN = env("TRAKT_ACCESS_TOKEN", default="")
TRAKT_REFRESH_TOKEN = env("TRAKT_REFRESH_TOKEN", default="")
TRAKT_REDIRECT_URI = env("TRAKT_REDIRECT_URI", default="urn:ietf:wg:oauth:2.0:oob")
TMDB_API_KEY = env("TMDB_API_KEY", default="")
TOKEN_ENCRYPTION_KEY = env("TOKEN_ENCRYPTION_KEY", default="")

ANILIST_API_URL = env("ANILIST_API_URL", default="https://graphql.anilist.co")
TRAKT_API_URL = env("TRAKT_API_URL", default="https://api.trakt.tv")
# Trakt's OAuth host for /oauth/* (authorize link, token, refresh, device code, revoke): see
# docs/sync.md "Trakt today" for the sources; set it to https://api.trakt.tv to use the old host.
TRAKT_AUTH_URL = env("TRAKT_AUTH_URL", default="https://auth.trakt.tv")
TMDB_API_URL = env("TMDB_API_URL", default="https://api.themoviedb.org/3")
OTAKU_MAPPINGS_URL = env(
    "OTAKU_MAPPINGS_URL",
    default="https://raw.githubusercontent.com/Goldenfreddy0703/Otaku-Mappings/main/anime_mappings.db",
)
FRIBB_MAPPINGS_URL = env(
    "FRIBB_MAPPINGS_URL",
    default="https://raw.githubusercontent.com/Fribb/anime-lists/master/anime-list-full.json",
)
# The published v3 release, zstd-compressed (a fraction of `mappings.json`'s size); an empty
# value turns the source off. Plain `.json` URLs work too (the download is sniffed).
ANIBRIDGE_MAPPINGS_URL = env(
    "ANIBRIDGE_MAPPINGS_URL",
    default="https://github.com/anibridge/anibridge-mappings/releases/download/v3/mappings.json.zst",
)

HTTP_TIMEOUT_SECONDS = env.float("HTTP_TIMEOUT_SECONDS", default=30.0)
HTTP_MAX_RETRIES = env.int("HTTP_MAX_RETRIES", default=4)
HTTP_RETRY_BUDGET_SECONDS = env.float("HTTP_RETRY_BUDGET_SECONDS", default=120.0)
# First retry delay; it doubles per attempt (plus jitter), bounded by the budget above.
HTTP_RETRY_BACKOFF_SECONDS = env.float("HTTP_RETRY_BACKOFF_SECONDS", default=1.0)
ANILIST_REQUESTS_PER_MINUTE = env.int("ANILIST_REQUESTS_PER_MINUTE", default=30)
TRAKT_WRITE_INTERVAL_SECONDS = env.float("TRAKT_WRITE_INTERVAL_SECONDS", default=1.0)
TRAKT_READS_PER_5_MINUTES = env.int("TRAKT_READS_PER_5_MINUTES", default=500)
TRAKT_BATCH_SIZE = env.int("TRAKT_BATCH_SIZE", default=100)
TRAKT_SEASON_CACHE_DAYS = env.int("TRAKT_SEASON_CACHE_DAYS", default=7)
# Check dataset placements against air dates (AniList airingSchedule vs Trakt first_aired).
AIRDATES_ENABLED = env.bool("AIRDATES_ENABLED", default=True)

# --- Sync -----------------------------------------------------------------------------------
SYNC_INTERVAL_HOURS = env.int("SYNC_INTERVAL_HOURS", default=6)
SYNC_REWATCHES = env.bool("SYNC_REWATCHES", default=False)
# The AniList statuses synced, everywhere (list modes, activities, reconciliation); see docs/sync.md.
SYNC_STATUSES = env("SYNC_STATUSES", default="CURRENT,REPEATING,COMPLETED,PAUSED,DROPPED")
try:
    SYNC_STATUSES = parse_statuses(SYNC_STATUSES)
except ValueError as _exc:
    raise ImproperlyConfigured(str(_exc)) from None
# A run not heard from for this long is dead and the next start marks it interrupted; its
# heartbeat renews the lease every quarter of it (docs/sync.md, "One run at a time").
SYNC_LEASE_SECONDS = env.int("SYNC_LEASE_SECONDS", default=60)
# A queued run no worker has started after this long is given up (its task was lost).
SYNC_QUEUED_SECONDS = env.int("SYNC_QUEUED_SECONDS", default=10 * 60)
# A worker (django-q cluster) not heard from for this long is gone: a queued run whose task it
# had taken is marked interrupted, and runs it left are found by its heartbeat check.
SYNC_WORKER_SILENT_SECONDS = env.int("SYNC_WORKER_SILENT_SECONDS", default=30)
# A sync route called without `async=1` answers when the run is done, as the original did, but
# the run is the worker's and the request waits at most this long (below the web server's
# timeout: gunicorn's is 120 s in the Procfile), then answers 202 with the run to follow.
SYNC_API_WAIT_SECONDS = env.float("SYNC_API_WAIT_SECONDS", default=90.0)
# How long to wait after an uncertain history POST before checking Trakt history for it, so a
# write still in flight has landed (see docs/sync.md).
SYNC_RECONCILE_DELAY_SECONDS = env.float("SYNC_RECONCILE_DELAY_SECONDS", default=10.0)

# AniList score → Trakt rating (docs/sync.md, "Ratings"); a rating set on Trakt by hand is kept
# unless SYNC_RATINGS_OVERWRITE.
SYNC_RATINGS = env.bool("SYNC_RATINGS", default=False)
SYNC_RATINGS_OVERWRITE = env.bool("SYNC_RATINGS_OVERWRITE", default=False)
# PLANNING entries → the Trakt watchlist (docs/sync.md, "Watchlist").
SYNC_WATCHLIST = env.bool("SYNC_WATCHLIST", default=False)
# The history doctor (docs/sync.md, "History doctor"): plays of one episode or movie whose
# watched_at lie closer than this are duplicates (60: the same minute; at most 6 hours).
DOCTOR_WINDOW_SECONDS = env.int("DOCTOR_WINDOW_SECONDS", default=60)
if not 1 <= DOCTOR_WINDOW_SECONDS <= 6 * 3600:
    raise ImproperlyConfigured("DOCTOR_WINDOW_SECONDS must be between 1 and 21600 (6 hours)")
# Trakt's cap on watched history items (100,000 for free and VIP accounts since 2026).
TRAKT_HISTORY_LIMIT = env.int("TRAKT_HISTORY_LIMIT", default=100_000)

# --- Notifications (issue 13) ---------------------------------------------------------------
# Apprise URLs (Discord, Telegram, ntfy, mailto, json://, ...), comma separated; empty: none.
NOTIFY_URLS = env.list("NOTIFY_URLS", default=[])
# Also announce a scheduled run that posted something (one line); failures are always announced.
NOTIFY_SCHEDULED_POSTS = env.bool("NOTIFY_SCHEDULED_POSTS", default=False)

# --- Logs -----------------------------------------------------------------------------------
LOG_RETENTION_DAYS = env.int("LOG_RETENTION_DAYS", default=30)
LOG_MAX_ROWS = env.int("LOG_MAX_ROWS", default=50_000)
LOG_LEVEL = env("LOG_LEVEL", default="INFO")

APP_LOGGERS = ("syncer", "mappings", "logs", "config")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "logs.redact.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        "database": {"class": "logs.handler.DatabaseLogHandler", "filters": ["redact"], "level": "INFO"},
    },
    "loggers": {
        name: {"handlers": ["console", "database"], "level": LOG_LEVEL, "propagate": False}
        for name in APP_LOGGERS
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
}
# The worker says when it starts, stops and runs a task.
LOGGING["loggers"]["django-q"] = {"handlers": ["console"], "level": "INFO", "propagate": False}
# Django's own lines once (its default config would also pass them on to the root handler).
LOGGING["loggers"]["django"] = {"handlers": ["console"], "level": "INFO", "propagate": False}

# --- Tasks (django-q2) ----------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
Q_CLUSTER = {
    "name": "anilist-trakt",
    "workers": env.int("Q_WORKERS", default=2),
    # A sync of a large library is paced by Trakt's 1 write/s: give it an hour, and retry
    # only after the timeout has passed so a slow task is never run twice at once.
    "timeout": env.int("Q_TIMEOUT", default=3600),
    "retry": env.int("Q_RETRY", default=3700),
    "max_attempts": 2,
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 500,
    "label": "Tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- I18n, static ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
# ISO dates in the admin too, like the app's pages (config/formats/en/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # No manifest: a page never fails because `collectstatic` was skipped (tests, `make run`).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
