"""One settings module, read from the environment (django-environ, optional `.env`).

With no environment at all this runs the local demo: SQLite under `var/`, DEBUG on, a
secret generated once into `var/`. `DJANGO_ENV=production` (or `DEBUG=false`) is the same
code with the demo defaults removed: it refuses to start without `SECRET_KEY` and
`ALLOWED_HOSTS`, and `manage.py check --deploy` is clean.
"""

import logging
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from core.logging import configure_structlog, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production" or not env.bool("DEBUG", default=True)
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
TESTING = env.bool("TESTING", default=False)


def _demo_secret_key() -> str:
    """A secret generated once and kept in var/, so sessions survive restarts of the demo."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


if PRODUCTION:
    for required in ("SECRET_KEY", "ALLOWED_HOSTS"):
        if not env.str(required, default=""):
            raise ImproperlyConfigured(f"{required} must be set when DJANGO_ENV=production.")
    SECRET_KEY = env.str("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _demo_secret_key()
    ALLOWED_HOSTS = env.list(
        "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
    )

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# How many proxies in front of the app append to X-Forwarded-For (a TLS terminator, a load
# balancer). The one reading of the client's address (core.clients.client_address) for the
# lockout, the throttles, the rate limits and the logs. 0: the header is ignored.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

INSTALLED_APPS = [
    "bankproject.apps.BankAdminConfig",  # django.contrib.admin with the bank's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "django_structlog",
    "core",
    "audit",
    "accounts",
    "ledger",
    "cards",
    "statements",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.NoStoreMiddleware",
    "core.middleware.RequestLogMiddleware",  # django-structlog's, with the request id's checks
    "core.middleware.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.MessageMiddleware",  # Django's, not under /api/
    "core.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    "core.middleware.ReplicaReadsMiddleware",
    "core.middleware.ApiExceptionMiddleware",
]

ROOT_URLCONF = "bankproject.urls"
WSGI_APPLICATION = "bankproject.wsgi.application"

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

# --- Database -----------------------------------------------------------------------------
# SQLite (the embedded default) queues concurrent writers instead of failing: WAL lets
# readers run beside the one writer, IMMEDIATE takes the write lock when a transaction
# begins (so two read-then-write transactions cannot deadlock on lock upgrade), and the
# busy timeout makes a second writer wait for the lock instead of raising "database is locked".
DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'bank.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
    # A file, not :memory:, so that threads in the concurrency tests share one database.
    _db["TEST"] = {"NAME": str(VAR_DIR / "test_bank.sqlite3")}
else:
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    _db["CONN_HEALTH_CHECKS"] = True
_db["ATOMIC_REQUESTS"] = False  # services own the transaction boundary
# The posting's statements (ledger/posting_sql.py) are PREPAREd once per database session and
# EXECUTEd after that, so PostgreSQL plans a transfer's statements once, not on every
# transfer. Off behind a pooler in transaction mode (PgBouncer), where the next transaction
# may run in another session, which has not prepared them. SQLite: no effect.
LEDGER_PREPARED_STATEMENTS = env.bool("LEDGER_PREPARED_STATEMENTS", default=True)

# A PostgreSQL streaming replica for the read-only selectors (history, lists, the dashboard):
# core/db_router.py says which reads may go there and when they go to the primary instead.
# Unset (the default): no `replica` alias, no router, every read on the primary.
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    _replica = DATABASES["replica"] = env.db_url_config(DATABASE_REPLICA_URL)
    if _replica["ENGINE"] != "django.db.backends.sqlite3":
        _replica.setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)  # a dead host waits 2 s
        _replica["CONN_MAX_AGE"] = _db.get("CONN_MAX_AGE", 0)
    _replica["ATOMIC_REQUESTS"] = False
    # core.db_router probes the replica itself at the start of each read-only request (a
    # health check of its own that also measures the lag), so Django's would be a second one.
    _replica["CONN_HEALTH_CHECKS"] = False
    _replica["TEST"] = {"MIRROR": "default"}  # tests never create or flush a database on it
    DATABASE_ROUTERS = ["core.db_router.PrimaryReplicaRouter"]
# Reads go to the primary when the replica is further behind than this (seconds)...
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=5.0)
# ...and a user's reads go to the primary after their write until the replica has replayed
# it (its WAL position), for at most this long, after which the lag bound alone decides.
REPLICA_PIN_SECONDS = env.int("REPLICA_PIN_SECONDS", default=60)
# After the replica failed to answer, the primary serves every read this long before a
# request tries the replica again (a down replica costs one connection attempt per period).
REPLICA_RETRY_SECONDS = env.float("REPLICA_RETRY_SECONDS", default=5.0)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: shared by every worker so that throttling counts across them --------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",
        }
    }

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "first_name", "last_name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "/"

# django-axes: repeated wrong passwords for one email from one address lock that pair out.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "email"
AXES_USERNAME_CALLABLE = "accounts.auth.axes_username"
AXES_LOCKOUT_CALLABLE = "core.errors.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "core.clients.client_address"

# core.ratelimit: the portal's doors, counted in the shared cache (every worker, every host).
# "N/15min" is N per fixed 15-minute window. Per address: every POST; per email: failures.
RATE_LIMITS = {
    "login": env.str("RATE_LOGIN", default="30/15min"),  # sign-in POSTs per address
    "login_email": env.str("RATE_LOGIN_EMAIL", default="10/15min"),  # failures per email
    "signup": env.str("RATE_SIGNUP", default="10/hour"),  # sign-up POSTs per address
    "signup_email": env.str("RATE_SIGNUP_EMAIL", default="5/hour"),  # sign-up POSTs per email
    "password_change": env.str("RATE_PASSWORD_CHANGE", default="20/15min"),  # POSTs per address
    "password_change_email": env.str("RATE_PASSWORD_CHANGE_EMAIL", default="5/15min"),  # wrong
}

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (whitenoise) ------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- Requests -----------------------------------------------------------------------------
MAX_REQUEST_BODY_BYTES = 1024 * 1024  # API.md: a body over 1 MiB is a 413
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

# --- Security -----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A portal session ends after this long without a request, and this long after sign-in at
# the latest (core.middleware.SessionLifetimeMiddleware); the cookie lives no longer.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_MAX_HOURS = env.int("SESSION_MAX_HOURS", default=8)
SESSION_COOKIE_AGE = 60 * 60 * SESSION_MAX_HOURS
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # load balancer probes speak HTTP
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# django-csp: no inline script or style anywhere, nothing from another host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.BankJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.LimitPagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.schema.BankAutoSchema",
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.AnonRateThrottle",
        "core.throttling.UserRateThrottle",
        "core.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="300/min"),
        "user": env.str("THROTTLE_USER", default="6000/min"),
        "auth": env.str("THROTTLE_AUTH", default="30/min"),
        "signup": env.str("THROTTLE_SIGNUP", default="20/hour"),
        "card_payment": env.str("THROTTLE_CARD_PAYMENT", default="120/min"),
    },
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,  # for DRF code that reads it; ours uses client_address
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": False,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=5)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default="") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "LEEWAY": 0,
    "TOKEN_OBTAIN_SERIALIZER": "accounts.serializers.SessionTokenObtainSerializer",
}
# A login's refresh tokens (one family: the login and its rotations) end this long after the
# login, however often they are rotated (accounts/tokens.py).
JWT_SESSION_MAX_HOURS = env.int("JWT_SESSION_MAX_HOURS", default=12)

# A token's user is kept in the shared cache this long (core/authentication.py); only
# with Redis, where every worker sees the same cache and a saved user is forgotten by all.
JWT_USER_CACHE_SECONDS = env.int("JWT_USER_CACHE_SECONDS", default=60 if REDIS_URL else 0)

SPECTACULAR_SETTINGS = {
    "TITLE": "Bank API",
    "DESCRIPTION": (
        "The bank's core API: accounts, a double-entry ledger, transfers, cards and "
        "statements. Money is an integer in minor units beside an ISO 4217 code."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums"],
    # Models' `status` fields with different choices: each enum named for its model.
    "ENUM_NAME_OVERRIDES": {
        "StatementStatusEnum": ["open", "issued"],
        "CardStatusEnum": "cards.models.Card.Status",
        "CardAuthorizationStatusEnum": "cards.models.CardAuthorization.Status",
    },
}

# THROTTLE_RATES_OFF=1 switches the API's throttles off (a rate of None never throttles): for
# one run of `bin/fuzz` only, whose thousands of requests a minute from one address would
# otherwise test the 429 instead of the endpoints. Never set it anywhere else.
THROTTLE_RATES_OFF = env.bool("THROTTLE_RATES_OFF", default=False)
if THROTTLE_RATES_OFF and PRODUCTION:
    raise ImproperlyConfigured("THROTTLE_RATES_OFF is for the fuzzing run, never production.")
if THROTTLE_RATES_OFF:
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = dict.fromkeys(
        REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    )

# --- Bank ---------------------------------------------------------------------------------
IDEMPOTENCY_KEY_TTL = timedelta(hours=env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24))
# Four eyes: a staff deposit, withdrawal or reversal above this (minor units) needs a second
# person. APPROVAL_LIMITS sets it per currency (minor units of that currency, as a currency's
# unit differs: 1,000,000 is 10,000.00 EUR but 1,000,000 JPY), e.g. `JPY=100000000,GBP=800000`;
# a currency not named there uses APPROVAL_LIMIT.
APPROVAL_LIMIT = env.int("APPROVAL_LIMIT", default=1_000_000)
APPROVAL_LIMITS: dict[str, int] = {
    currency.strip().upper(): int(limit)
    for currency, limit in env.dict("APPROVAL_LIMITS", default={}).items()
}

# --- Cards (cards/keys.py) -----------------------------------------------------------------
# The bank's BIN (the first six digits of its cards' numbers), the keys of the PAN fingerprint
# (HMAC-SHA-256; "id:key,id:key", the first one current, the others still found so that keys
# rotate without losing old cards) and the CVC key (the CVC is derived from PAN and expiry,
# never stored). In production all must be set, each key distinct from SECRET_KEY and from
# the others; the local demo derives its own from SECRET_KEY.
CARD_BIN = env.str("CARD_BIN", default="400000")
if not (len(CARD_BIN) == 6 and CARD_BIN.isascii() and CARD_BIN.isdigit()):
    raise ImproperlyConfigured("CARD_BIN must be six digits.")


def _card_keys(text: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key_id, _, key = item.partition(":")
        if not key_id or not key or len(key_id) > 16 or key_id in keys:
            raise ImproperlyConfigured(
                "CARD_PAN_KEYS is id:key[,id:key...], ids unique, 1-16 chars."
            )
        keys[key_id] = key
    return keys


def _demo_key(label: str) -> str:
    import hashlib
    import hmac

    return hmac.new(SECRET_KEY.encode(), label.encode(), hashlib.sha256).hexdigest()


CARD_PAN_KEYS = _card_keys(env.str("CARD_PAN_KEYS", default=""))
CARD_CVC_KEY = env.str("CARD_CVC_KEY", default="")
if PRODUCTION:
    if not CARD_PAN_KEYS or not CARD_CVC_KEY:
        raise ImproperlyConfigured("CARD_PAN_KEYS and CARD_CVC_KEY must be set in production.")
    _all_keys = [SECRET_KEY, CARD_CVC_KEY, *CARD_PAN_KEYS.values()]
    if len(set(_all_keys)) != len(_all_keys):
        raise ImproperlyConfigured(
            "CARD_PAN_KEYS and CARD_CVC_KEY must differ from SECRET_KEY and from each other."
        )
    if any(len(key) < 32 for key in _all_keys[1:]):
        raise ImproperlyConfigured("Each card key must be at least 32 characters.")
else:
    CARD_PAN_KEYS = CARD_PAN_KEYS or {"demo": _demo_key("card-pan-fingerprint")}
    CARD_CVC_KEY = CARD_CVC_KEY or _demo_key("card-cvc")
# A card's daily limit (minor units of its account's currency): the default at issue and the
# most a holder may set.
CARD_DAILY_LIMIT_DEFAULT = env.int("CARD_DAILY_LIMIT_DEFAULT", default=100_000)
CARD_DAILY_LIMIT_MAX = env.int("CARD_DAILY_LIMIT_MAX", default=1_000_000)
CARD_VALID_YEARS = env.int("CARD_VALID_YEARS", default=4)
# How long a card authorisation holds money before `manage.py expire_holds` releases it.
HOLD_LIFETIME = timedelta(seconds=env.int("HOLD_LIFETIME_SECONDS", default=7 * 24 * 3600))
if HOLD_LIFETIME.total_seconds() <= 0:
    raise ImproperlyConfigured("HOLD_LIFETIME_SECONDS must be positive.")
CARD_CVC_FAILURES_TO_FREEZE = 5  # wrong CVCs (or expiries) for one card in one UTC day
RATE_LIMITS["card_invalid"] = env.str("RATE_CARD_INVALID", default="20/15min")  # per address

# --- Logging: JSON lines with the request id on every line ---------------------------------
# The request's `ip` is bound by core.middleware.bind_request_context: the client's address,
# as axes and the throttles see it (core.clients.client_address). django-structlog's own
# lookup (django-ipware) trusts a client-supplied X-Forwarded-For first and cost 8% of an
# API request's Python calls (bench/).
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = False
# A load balancer's X-Request-ID (and X-Correlation-ID) carries through to our log lines, so one
# request can be followed across hosts: core.middleware.bind_request_context binds it when it
# looks like an id (1-64 of A-Z a-z 0-9 . _ -), else the request keeps a fresh uuid. Not
# django-structlog's own trust of them, which would take any value.
DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = False
DJANGO_STRUCTLOG_TRUST_UPSTREAM_CORRELATION_ID = False
# The user is named on the request's last line (request_finished, request_failed) by
# core.middleware.bind_user, as the request ends: not also as it begins, before an API
# request's token is read.
DJANGO_STRUCTLOG_USER_ID_FIELD = None
# One access line per request at INFO: `request_finished` (or `request_failed`) says the
# method and path, the status, the user, the address, the user agent and the request id;
# `request_started` says nothing more, so it is written at DEBUG (LOG_LEVEL=DEBUG shows it,
# e.g. to see which requests a killed worker was serving). Two lines a request were twice the
# log volume and an eighth of an authenticated GET's own Python (bench/pipeline.py).
DJANGO_STRUCTLOG_STATUS_START_LOG_LEVEL = logging.DEBUG
LOGGING = logging_config(
    level=env.str("LOG_LEVEL", default="INFO"),
    renderer=env.str("LOG_FORMAT", default="json"),  # "console" for a human-readable dev log
)
configure_structlog()
CSRF_FAILURE_VIEW = "core.errors.csrf_failure"
