"""Junction settings: one module, every value from the environment (12-factor).

Two modes share this file:
- embedded defaults (no DATABASE_URL / REDIS_URL): SQLite in WAL mode and
  Celery's filesystem broker under ``JUNCTION_VAR_DIR``; what ``make run`` uses;
- servers: PostgreSQL from DATABASE_URL and Redis (or RabbitMQ via
  CELERY_BROKER_URL) from REDIS_URL; what CI and production use.

Every variable is documented in ``.env.example`` and ``docs/operations.md``.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is read when present; real environment variables win.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)


def env_or(name: str, default: str) -> str:
    """The variable's value, or ``default`` when it is unset *or empty* (``FOO=`` in .env)."""
    return env.str(name, default="") or default


# A relative JUNCTION_VAR_DIR is taken from the project folder, wherever the process starts.
VAR_DIR = (BASE_DIR / env_or("JUNCTION_VAR_DIR", "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

# A secret key is only generated for local development; production refuses to start without one.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off (production mode). "
            "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    # Development: a random key generated once and kept beside the embedded database.
    _dev_key = VAR_DIR / "dev-secret-key"
    if not _dev_key.exists():
        import secrets

        _dev_key.write_text(secrets.token_urlsafe(50))
        _dev_key.chmod(0o600)
    SECRET_KEY = _dev_key.read_text().strip()

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# --- Applications -----------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",  # API tokens (accounts.ApiToken), stored hashed
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tables2",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "guardian",
    "auditlog",
    "axes",  # login throttling and lockout
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # recovery codes
    # Junction's own apps. ``accounts`` stays last: its post_migrate handler
    # assigns role permissions once every other app's permissions exist.
    "integrations",
    "masterdata",
    "monitoring",
    "audit",
    "accounts",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Signed webhook POSTs skip the page middleware below: a third of their CPU and none of it
    # applies (integrations/api/inbound.py says what it keeps; bench/README.md has the figures).
    "integrations.api.inbound.InboundMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Sign-in: idle timeout, whether the session passed its second factor, and sending
    # those who owe one to it before any other page (accounts/middleware.py).
    "accounts.middleware.IdleTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # After authentication, so audit entries carry the acting user and address.
    "audit.middleware.AuditMiddleware",
    # Last, as django-axes asks: turns a lockout into the lockout page (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "config.navigation.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------

SQLITE_OPTIONS = {
    # WAL lets the web server read while a worker writes; IMMEDIATE takes the
    # write lock up front so concurrent writers wait instead of failing.
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
    "transaction_mode": "IMMEDIATE",
}
DATABASES = {"default": env.db_url_config(env_or("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
    # A file, not memory, so a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication and authorisation ----------------------------------------

AUTHENTICATION_BACKENDS = [
    # First: refuses locked-out username+address pairs before any password is checked.
    # authenticate() then needs the request (tests sign in with force_login).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# No database row for anonymous users: object permissions are never granted to them.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sudo mode: sensitive actions ask for the password or a TOTP code again when the
# session's last authentication is older than this (accounts/reauth.py).
JUNCTION_REAUTH_SECONDS = env.int("JUNCTION_REAUTH_SECONDS", default=300)
# A session unused for this long is signed out (accounts/middleware.py); SESSION_COOKIE_AGE
# below stays the absolute limit however active the session is.
JUNCTION_SESSION_IDLE_SECONDS = env.int("JUNCTION_SESSION_IDLE_SECONDS", default=30 * 60)
# Administrators must use TOTP. Only a throwaway setup should turn this off (docs/security.md).
JUNCTION_REQUIRE_ADMIN_2FA = env.bool("JUNCTION_REQUIRE_ADMIN_2FA", default=True)
OTP_TOTP_ISSUER = env.str("JUNCTION_TOTP_ISSUER", default="Junction")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Login lockout (django-axes): after JUNCTION_LOGIN_FAILURE_LIMIT failures for one username
# from one address, that pair is refused for JUNCTION_LOGIN_COOLOFF_MINUTES. Pairs, not
# usernames alone (anyone could lock an administrator out) nor addresses alone (one
# office behind NAT would lock out each other): see docs/security.md.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env.int("JUNCTION_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("JUNCTION_LOGIN_COOLOFF_MINUTES", default=30))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# The same client address as the audit trail: X-Forwarded-For only behind our own proxy.
AXES_CLIENT_IP_CALLABLE = "accounts.middleware.client_address"
AXES_VERBOSE = False

# --- Security headers ---------------------------------------------------------

TLS = env.bool("JUNCTION_TLS", default=not DEBUG)
SESSION_COOKIE_SECURE = TLS
CSRF_COOKIE_SECURE = TLS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # htmx takes the token from the page (base.html), never from the cookie
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if TLS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = TLS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Only behind a proxy we run are X-Forwarded-* headers believed (scheme, and the
# client address in the audit trail); otherwise any client could forge them.
BEHIND_PROXY = env.bool("JUNCTION_BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Scripts only from our own static files: no inline script, no CDN.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Style sheets and <style> only from our files; style="" attributes stay allowed
        # (progress-bar widths in templates), which cannot run code.
        "style-src": [SELF],
        "style-src-elem": [SELF],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Internationalisation and static files -----------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / env_or("STATIC_ROOT", str(VAR_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"
PAGINATE_BY = env.int("JUNCTION_PAGINATE_BY", default=25)

# --- REST API ---------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: a bad token then answers 401 with WWW-Authenticate, not 403.
        # Personal tokens (accounts/tokens.py): "Authorization: Token <secret>".
        "accounts.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Per person (or per address when anonymous); the inbound webhook declares none of its own.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("JUNCTION_API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("JUNCTION_API_THROTTLE_USER", default="1200/minute"),
    },
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
# API tokens (django-rest-knox, model accounts.ApiToken): a person picks the lifetime up to the maximum.
JUNCTION_API_TOKEN_DAYS = env.int("JUNCTION_API_TOKEN_DAYS", default=90)
JUNCTION_API_TOKEN_MAX_DAYS = env.int("JUNCTION_API_TOKEN_MAX_DAYS", default=365)
KNOX_TOKEN_MODEL = "accounts.ApiToken"  # noqa: S105 (a model name)
# knox's own migrations create its AuthToken table even when the model is swapped for ours;
# an orphan table whose foreign key to auth_user blocks the test database's flush.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_MODEL": KNOX_TOKEN_MODEL,
    "TOKEN_TTL": timedelta(days=JUNCTION_API_TOKEN_DAYS),
    "AUTO_REFRESH": False,  # an expiry is a promise: it does not move with use
    "TOKEN_PREFIX": "jnc_",  # lets secret scanners recognise a leaked token
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Junction API",
    "DESCRIPTION": "Integration governance: systems, connectors, flows, master data and monitoring.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Two choice sets share the field name "entity": name them apart in the schema.
    "ENUM_NAME_OVERRIDES": {
        "MasterEntityEnum": "masterdata.entities.Entity",
        "FlowEntityEnum": "integrations.choices.FlowEntity",
        "ReconciliationStatusEnum": "integrations.choices.ReconciliationStatus",
    },
}

# --- Audit trail --------------------------------------------------------------

# Every model is audited unless listed here; tests/test_stack.py
# keeps new models from slipping out. With every model come its many-to-many
# fields (auditlog registers them as m2m_fields): User.groups records people
# joining and leaving a role, and the object permission models record grants
# (accounts/tests/test_access_audit.py).
AUDITLOG_INCLUDE_ALL_MODELS = True
AUDITLOG_EXCLUDE_TRACKING_MODELS = (
    "sessions",  # session rows churn on every request and hold no business change
    "contenttypes",
    # Secrets or their hashes, and sign-in bookkeeping: their changes are recorded as
    # access events instead (login.*, 2fa.*, token.*; accounts/signals.py, two_factor.py, tokens.py).
    "accounts.apitoken",
    "otp_totp.totpdevice",
    "otp_static.staticdevice",
    "otp_static.statictoken",
    "axes.accessattempt",
    "axes.accesslog",
    "axes.accessfailurelog",
    "axes.accessattemptexpiration",
    "monitoring.heartbeat",  # liveness pings, written every few seconds
    # Opened and resolved by the system as conditions come and go, like runs; a person's
    # acknowledgement is recorded as an access event (alert.acknowledged).
    "monitoring.alert",
    "masterdata.blockingkey",  # derived matching keys, rebuilt from golden values
    "masterdata.importjob",  # registered below without the uploaded file's content
    "integrations.connector",  # registered below without the encrypted credentials
    # The run log is itself the record of what workers did; people's actions on it
    # (run, replay, discard) are audited where they happen.
    "integrations.run",
    "integrations.recordoutcome",
    "integrations.delivery",
    "integrations.inboundevent",
    "integrations.reconciliation",
    "integrations.targetchange",
    # The hash chain's own bookkeeping (audit/chain.py): auditing it would chain the chain;
    # verify_audit_trail checks it instead, and a purge is recorded as an event.
    "audit.auditpending",
    "audit.auditseal",
    "audit.auditanchor",
    "audit.chaincheck",
)
AUDITLOG_INCLUDE_TRACKING_MODELS = (
    {"model": "masterdata.importjob", "exclude_fields": ["content"]},
    # Credentials never enter the trail; their change shows as credentials_changed.
    {"model": "integrations.connector", "exclude_fields": ["credentials"]},
)
AUDITLOG_EXCLUDE_TRACKING_FIELDS = ("password", "last_login")
# A request's correlation id (audit/correlation.py) is generated by Junction; this header is
# believed only behind our own proxy (JUNCTION_BEHIND_PROXY), like X-Forwarded-For.
AUDITLOG_CID_HEADER = "X-Correlation-ID"
# Values shown as "[redacted]" in audit diffs: app_label.model.field, or .field.key for one key
# of a JSON field (e.g. masterdata.goldenrecord.values.date_of_birth). Connector credentials
# are always redacted (audit/redaction.py).
JUNCTION_AUDIT_REDACT_FIELDS = env.list("JUNCTION_AUDIT_REDACT_FIELDS", default=[])
# Entries younger than this are never purged (purge_audit_trail); 2555 days is seven years.
JUNCTION_AUDIT_RETENTION_DAYS = env.int("JUNCTION_AUDIT_RETENTION_DAYS", default=2555)
# verify_audit_trail reports an entry still unsealed after this long (sealing normally takes seconds).
JUNCTION_AUDIT_SEAL_GRACE_MINUTES = env.int("JUNCTION_AUDIT_SEAL_GRACE_MINUTES", default=10)

# --- Celery -----------------------------------------------------------------

# CELERY_BROKER_URL (e.g. RabbitMQ) wins over REDIS_URL; with neither, the
# filesystem transport runs a real worker without any server.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_or("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for name in ("in", "processed", "control"):
        (BROKER_DIR / name).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "in"),
        "data_folder_out": str(BROKER_DIR / "in"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # A worker takes one message per poll: at kombu's default of 1 s that is about 2 tasks a
        # second for two processes, which the sync engine's load tasks outgrow (then pushed events
        # wait minutes). Listing a folder ten times a second costs nothing measurable.
        "polling_interval": 0.1,
    }
else:
    # Must exceed the longest task; long delays are scheduled in the database, not as ETAs.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=7200)}
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# A run's extraction stops after this long (at the end of a page) and goes on in a new task,
# from the run's watermark: a long first load never meets the time limits above.
JUNCTION_EXTRACT_SLICE_SECONDS = env.int("JUNCTION_EXTRACT_SLICE_SECONDS", default=120)
JUNCTION_WORKER_HEARTBEAT_INTERVAL = env.int("JUNCTION_WORKER_HEARTBEAT_INTERVAL", default=10)
# A worker (or the scheduler) silent for longer than this is reported down by /healthz.
JUNCTION_HEARTBEAT_STALE_AFTER = env.int("JUNCTION_HEARTBEAT_STALE_AFTER", default=60)

# --- Sync engine ------------------------------------------------------------

# Fernet keys for connector credentials at rest, newest first: the first
# encrypts, all decrypt, so a key is rotated by prepending a new one and
# running `manage.py rotate_keys` (docs/operations.md).
JUNCTION_ENCRYPTION_KEYS = env.list("JUNCTION_ENCRYPTION_KEYS", default=[])
if not JUNCTION_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "JUNCTION_ENCRYPTION_KEYS must be set when DJANGO_DEBUG is off (production mode). Generate one with: "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
    _dev_fernet = VAR_DIR / "dev-encryption-key"
    if not _dev_fernet.exists():
        from cryptography.fernet import Fernet

        _dev_fernet.write_bytes(Fernet.generate_key())
        _dev_fernet.chmod(0o600)
    JUNCTION_ENCRYPTION_KEYS = [_dev_fernet.read_text().strip()]

# How often the sweeper re-queues due retries and work whose message was lost.
JUNCTION_SWEEP_SECONDS = env.int("JUNCTION_SWEEP_SECONDS", default=10)
# A worker's claim on a batch or a run's extraction; after it, the work is another worker's.
# Must exceed the slowest batch: a re-sent batch is harmless (upserts) but wasted.
JUNCTION_LEASE_SECONDS = env.int("JUNCTION_LEASE_SECONDS", default=300)
# A target whose batches keep failing is paused this long before a probe ("Test connection").
JUNCTION_CIRCUIT_COOLDOWN_SECONDS = env.int("JUNCTION_CIRCUIT_COOLDOWN_SECONDS", default=60)
# How long a record whose reference (an order's customer, say) has not reached the target yet
# waits for it, checked again with growing pauses, before it goes to the dead-letter queue.
JUNCTION_REFERENCE_WAIT_MINUTES = env.int("JUNCTION_REFERENCE_WAIT_MINUTES", default=60)
# The demo landscape of `make run` (demo/): a local Tryton ERP and made-up peers. Development only:
# the demo command refuses to run without DEBUG, whatever this says.
JUNCTION_DEMO = env.bool("JUNCTION_DEMO", default=DEBUG)
JUNCTION_DEMO_ERP_PORT = env.int("JUNCTION_DEMO_ERP_PORT", default=8100)
# Local folders the files adapter may read and write must lie inside this one.
JUNCTION_FILES_ROOT = env.path("JUNCTION_FILES_ROOT", default=VAR_DIR / "files")
# Every enabled target whose adapter can list its keys is reconciled this often, per entity
# delivered to it (integrations/engine/reconcile.py); 0 turns the schedule off.
JUNCTION_RECONCILE_HOURS = env.int("JUNCTION_RECONCILE_HOURS", default=24)
# Where connectors may connect to, comma-separated: host names, *.domain wildcards, CIDR networks
# (e.g. "erp.example.com,*.corp.example.com,10.20.0.0/16"). Empty: anywhere but the addresses
# integrations/outbound.py always refuses (link-local, cloud metadata, multicast, …).
JUNCTION_OUTBOUND_ALLOWLIST = env.list("JUNCTION_OUTBOUND_ALLOWLIST", default=[])
# Inbound webhooks may allow bodies up to 20 MiB (each connector sets its own limit, 1 MiB by default).
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
# Modules that register adapters (integrations/adapters/registry.py); a new
# adapter is one module added here.
JUNCTION_ADAPTERS = [
    "integrations.adapters.rest",
    "integrations.adapters.sql",
    "integrations.adapters.files",
    "integrations.adapters.webhook",
    "integrations.adapters.tryton",
]

# --- Alerts (monitoring/alerts.py, docs/operations.md "Alerts") ---------------

# Conditions are checked every this many seconds by a beat task; alerts open and resolve themselves.
JUNCTION_ALERT_EVALUATE_SECONDS = env.int("JUNCTION_ALERT_EVALUATE_SECONDS", default=60)
# A run still unfinished this long after it was queued raises "Run taking too long".
JUNCTION_ALERT_RUN_MINUTES = env.int("JUNCTION_ALERT_RUN_MINUTES", default=60)
# A scheduled flow is late when no run was queued for twice its interval plus this many minutes.
JUNCTION_ALERT_LATE_GRACE_MINUTES = env.int("JUNCTION_ALERT_LATE_GRACE_MINUTES", default=5)
# Who is told when an alert opens or resolves: e-mail addresses (through EMAIL_URL) and a URL that
# receives a JSON POST with a "text" field (Slack, Mattermost and Teams incoming webhooks take it).
JUNCTION_ALERT_EMAILS = env.list("JUNCTION_ALERT_EMAILS", default=[])
JUNCTION_ALERT_WEBHOOK_URL = env.str("JUNCTION_ALERT_WEBHOOK_URL", default="")
# The portal's address as people reach it, for links in notifications (e.g. https://junction.example.com).
JUNCTION_BASE_URL = env.str("JUNCTION_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Outgoing e-mail, e.g. smtp+tls://user:password@smtp.example.com:587 (django-environ's email_url);
# by default messages are written to the log (console).
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST, EMAIL_PORT = _email["EMAIL_HOST"] or "localhost", _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_USER"] or "", _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS, EMAIL_USE_SSL = _email.get("EMAIL_USE_TLS", False), _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="junction@localhost")
