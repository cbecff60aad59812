"""Settings for the 创城指挥平台, driven by the environment.

With nothing set it runs for development on an SQLite file with eager Celery tasks and a local
memory cache. Production sets DATABASE_URL (PostgreSQL), REDIS_URL, SECRET_KEY, DEBUG=0 and
ALLOWED_HOSTS; see docs/deploy.md.
"""

import os
import sys
import tempfile
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# pytest imports settings itself; tests must not depend on collected static files.
TESTING = "pytest" in sys.modules

DEBUG = env.bool("DEBUG", default=False)
# Maintenance commands that sign nothing may run on a bare checkout; `check --deploy` still flags
# the placeholder (security.W009). The web server and the workers need a real SECRET_KEY.
KEYLESS_COMMANDS = {"makemigrations", "migrate", "check", "collectstatic", "showmigrations", "sqlmigrate"}
if DEBUG or TESTING:
    SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me-in-production-0123456789")
elif len(sys.argv) > 1 and sys.argv[0].endswith("manage.py") and sys.argv[1] in KEYLESS_COMMANDS:
    SECRET_KEY = env("SECRET_KEY", default="django-insecure-placeholder-for-maintenance-commands-only")
else:
    SECRET_KEY = env("SECRET_KEY")  # required in production: fails loudly when missing

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

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
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "simple_history",
    "axes",
    "campaign",
    "indicators",
    "inspections",
    "accountability",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "campaign.password_change.PasswordChangeRequiredMiddleware",
    "campaign.selection.CampaignSelectionMiddleware",
    "campaign.not_found.ProductNotFoundMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "campaign.urls"
WSGI_APPLICATION = "campaign.wsgi.application"

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
                "campaign.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and not env.bool("SQLITE_TEST_MEMORY", default=False):
    # The test database: a file in memory-backed /dev/shm (else the temp dir), one per test process,
    # not SQLite's in-memory database — which Django shares as ONE connection between the test
    # thread and every live-server thread, so a browser page, its service worker's background fetch
    # and the test's own queries could use it at once (seen: a browser journey hung on it under
    # load). As fast here; SQLITE_TEST_MEMORY=1 goes back to memory.
    _test_dir = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    DATABASES["default"]["TEST"] = {"NAME": str(_test_dir / f"chuangcheng-test-{os.getpid()}.sqlite3")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lock an account out after repeated failed logins (brute force on an intranet is still brute force).
# The (username, address) pair is locked, not the address: behind a proxy or a shared NAT one person
# must not lock out the office. The address honours X-Forwarded-For only from TRUSTED_PROXIES
# (addresses or networks of the reverse proxies, e.g. "127.0.0.1,10.0.0.0/8"): campaign/lockout.py.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "campaign.lockout.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "campaign.lockout.lockout_response"
AXES_ENABLED = env.bool("AXES_ENABLED", default=not TESTING)
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))

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

# In development and tests WhiteNoise serves straight from the app folders; production collects.
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING

# Imports: the largest spreadsheet accepted, in bytes.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
IMPORT_JOB_ROWS = env.int("IMPORT_JOB_ROWS", default=500)  # bigger files are previewed and imported as jobs
# Hostile sheets are refused before parsing (campaign.importing.check_sheet_limits).
IMPORT_MAX_UNCOMPRESSED_BYTES = env.int("IMPORT_MAX_UNCOMPRESSED_BYTES", default=50 * 1024 * 1024)
IMPORT_MAX_RATIO = env.int("IMPORT_MAX_RATIO", default=100)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=20000)
DATA_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A worker that dies (SIGKILL, OOM, a lost machine) leaves its message unacked: a child process
# lost is rejected back to the queue at once; a whole worker lost is redelivered by Redis after the
# visibility timeout, which must exceed the longest task (the hard time limit) or a task still
# running would be delivered twice. Every task is idempotent and claims its run first, so a late
# redelivery of a run already done is a no-op. The sweeper (campaign.jobs) re-queues sooner.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
# A broker that does not answer must not hold a request (gunicorn's 30 s): connecting gives up
# after a few seconds, and the job waits in the outbox for the sweeper.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_TASK_TIME_LIMIT + 10 * 60,
    "socket_connect_timeout": 3,
    "socket_timeout": 10,
}
# The jobs' outbox and sweeper (campaign/jobs.py): which Celery task runs each JobRun name (and
# which of its params the task takes, else the run's id); a queued run not handed over, or handed
# over this many minutes ago and not started, is dispatched again; a running run older than the
# time limit plus the margin lost its worker and is queued again, at most JOB_MAX_ATTEMPTS times.
JOB_TASKS = {
    "worker_check": {"task": "campaign.worker_check"},
    "import": {"task": "campaign.import_job"},
    "weekly_rollup": {"task": "accountability.rollup_week"},
    "bulletin_render": {"task": "accountability.bulletin_render", "arg": "version"},
    "meeting_render": {"task": "accountability.meeting_render"},
}
JOB_SWEEPERS = [  # app-specific states, after the runs'
    "accountability.bulletin_store.bulletin_sweep",
    "accountability.notify.deliveries_sweep",  # pushes the broker never got
]
# 调度会材料: at most this many units (the office's first, then by rule); the others are named.
MEETING_PACK_MAX_UNITS = env.int("MEETING_PACK_MAX_UNITS", default=40)
# 调度会材料: how long what a published week was (trend, losses, overdue at its end) is kept per unit set.
MEETING_PACK_CACHE_SECONDS = env.int("MEETING_PACK_CACHE_SECONDS", default=300)
JOB_REDISPATCH_MINUTES = env.int("JOB_REDISPATCH_MINUTES", default=5)
JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)
JOB_STALE_MARGIN_MINUTES = env.int("JOB_STALE_MARGIN_MINUTES", default=5)
# Test-only: seconds a roll-up waits inside its transaction after writing its rows, so a fault test
# can kill the worker mid roll-up. Never set it in production.
ROLLUP_TEST_DELAY_SECONDS = env.float("ROLLUP_TEST_DELAY_SECONDS", default=0)
CELERY_BEAT_SCHEDULE: dict = {
    # Deadline reminders for handlers and escalation to the office, every morning.
    "reminders": {"task": "accountability.reminders_send", "schedule": crontab(hour=8, minute=30)},
    # The weekly roll-up of the week just ended, for every active campaign, early Monday morning.
    "weekly-rollup": {"task": "accountability.rollup_last_week", "schedule": crontab(hour=1, minute=0, day_of_week=1)},
    # The jobs' sweeper: re-dispatches runs the broker never got, re-queues runs whose worker died.
    "jobs-sweep": {"task": "campaign.jobs_sweep", "schedule": 60.0},
    # Housekeeping: ended push records past DELIVERY_KEEP_DAYS, superseded weeks' stored files.
    "housekeeping": {"task": "accountability.housekeeping", "schedule": crontab(hour=3, minute=30)},
}
# Push records (accountability.Delivery) kept this many days after they were made, once ended.
DELIVERY_KEEP_DAYS = env.int("DELIVERY_KEEP_DAYS", default=180)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Unknown query parameters are a 400 (campaign/api/filters.py), number filters bounded.
    "DEFAULT_FILTER_BACKENDS": [
        "campaign.api.filters.UnknownQueryParams",
        "campaign.api.filters.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "campaign.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "campaign.api.exceptions.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "创城指挥平台 API",
    "DESCRIPTION": "创建文明城市指挥平台的 REST 接口。认证：会话或 `Authorization: Token …`。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request bodies as their own components, so an upload is documented as a file (binary).
    "COMPONENT_SPLIT_REQUEST": True,
    # The shared error answers (400/401/403/404/405/409/415/429) documented on every operation.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "campaign.api.schema.document_errors",
        # One tag per app (基础 / 测评体系 / 实地督查 / 整改与评比): Swagger UI groups by them.
        "campaign.api.schema.tag_by_app",
    ],
    "ENUM_NAME_OVERRIDES": {
        "MaterialStatusEnum": "indicators.choices.MaterialStatus",
        "RiskStatusEnum": "indicators.choices.RiskStatus",
        "JobStatusEnum": "campaign.choices.JobStatus",
        "ProblemStatusEnum": "inspections.choices.ProblemStatus",
        "PhaseKindEnum": "campaign.choices.PhaseKind",
        "ReportStatusEnum": "inspections.choices.ReportStatus",
        "ReportChannelEnum": "inspections.choices.ReportChannel",
        "NotificationKindEnum": "accountability.choices.NotificationKind",
        "DeliveryStatusEnum": "accountability.choices.DeliveryStatus",
        "ChannelKindEnum": "accountability.choices.ChannelKind",
        "RobotKindEnum": "accountability.choices.ROBOT_KINDS",
    },
}

# EMAIL_URL such as smtp+tls://user:password@mail.example.gov.cn:587 configures real mail.
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="chuangcheng@localhost")

# Production hardening; docs/deploy.md lists what `check --deploy` needs.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG and not TESTING)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_AGE = 12 * 3600

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # WeasyPrint logs every layout step at INFO.
    "loggers": {"axes": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

# Declaration materials (网上申报材料): the largest file accepted, in bytes.
MATERIAL_MAX_BYTES = env.int("MATERIAL_MAX_BYTES", default=50 * 1024 * 1024)

# Callables (dotted paths) returning banners for office and leader pages, e.g. an open veto event.
# The kernel renders them without importing the apps that provide them.
CAMPAIGN_BANNER_PROVIDERS = ["indicators.selectors.veto_banners"]

# Callables (dotted paths) of the apps above the kernel, so the kernel never imports them:
# navigation items [(label, url)] for a user, and home-page widgets {slot: html} for a request.
CAMPAIGN_NAV_PROVIDERS = [
    "indicators.navigation.nav_items",
    "inspections.navigation.nav_items",
    "accountability.navigation.nav_items",
]
CAMPAIGN_HOME_WIDGETS = [
    "indicators.widgets.home_widgets",
    "inspections.widgets.home_widgets",
    "accountability.widgets.home_widgets",
    "accountability.dashboard.home_widgets",
]

# Field photos: the largest accepted, in bytes; an inspection recorded farther than this from its
# point (metres) is accepted but flagged.
PHOTO_MAX_BYTES = env.int("PHOTO_MAX_BYTES", default=15 * 1024 * 1024)
INSPECTION_MAX_DISTANCE_M = env.int("INSPECTION_MAX_DISTANCE_M", default=1000)
# Evidence checks (inspections/photo_checks.py): a photo within this Hamming distance of an earlier
# one's perceptual hash is 疑似重复 (at most 4: the index finds hashes within 4); older than N days
# by its EXIF time, or taken farther than M metres from its point or problem, is flagged.
PHOTO_DUPLICATE_DISTANCE = env.int("PHOTO_DUPLICATE_DISTANCE", default=4)
PHOTO_MAX_AGE_DAYS = env.int("PHOTO_MAX_AGE_DAYS", default=3)
PHOTO_MAX_DISTANCE_M = env.int("PHOTO_MAX_DISTANCE_M", default=500)

# The map of points: a tile server on the intranet, if there is one. Empty: the points are drawn
# on a plain background (no internet at run time).
MAP_TILE_URL = env("MAP_TILE_URL", default="")
MAP_TILE_ATTRIBUTION = env("MAP_TILE_ATTRIBUTION", default="")

# The 大屏 (/dashboard/screen/): how often it refreshes, and how long its one JSON is cached per
# campaign (seconds; 0: not cached).
COMMAND_SCREEN_REFRESH_SECONDS = env.int("COMMAND_SCREEN_REFRESH_SECONDS", default=60)

# 市民随手拍 and the other public intake (inspections/intake.py): submissions per client address and
# per phone number per hour, unknown reference numbers looked up per address per hour (guessing),
# photos per report, the description's length, and the largest 随手拍 request body (its photos and
# fields together; refused before it is read).
REPORT_RATE_PER_IP = env.int("REPORT_RATE_PER_IP", default=10)
REPORT_RATE_PER_PHONE = env.int("REPORT_RATE_PER_PHONE", default=5)
REPORT_LOOKUP_MISSES_PER_IP = env.int("REPORT_LOOKUP_MISSES_PER_IP", default=20)
# Refused 随手拍 submissions an address may make in an hour (each may carry photos to decode).
REPORT_REFUSED_PER_IP = env.int("REPORT_REFUSED_PER_IP", default=30)
REPORT_MAX_PHOTOS = env.int("REPORT_MAX_PHOTOS", default=4)
REPORT_TEXT_MAX = env.int("REPORT_TEXT_MAX", default=1000)
REPORT_MAX_REQUEST_BYTES = env.int(
    "REPORT_MAX_REQUEST_BYTES", default=REPORT_MAX_PHOTOS * PHOTO_MAX_BYTES + 1024 * 1024
)
# Open311 (inspections/open311.py): reports one API key may file per hour (429 beyond).
OPEN311_RATE_PER_KEY = env.int("OPEN311_RATE_PER_KEY", default=120)
# 12345 pushes (POST /api/v1/hotline-tickets/ with X-Api-Key): calls one key may make per hour (429 beyond).
HOTLINE_PUSHES_PER_KEY = env.int("HOTLINE_PUSHES_PER_KEY", default=60)
# Triage (inspections/triage.py): open problems of the same category within this distance and these
# days are a report's duplicate candidates; without a chosen unit a report is accepted at the unit
# of the nearest active point within REPORT_NEAREST_POINT_M.
REPORT_DUPLICATE_DISTANCE_M = env.int("REPORT_DUPLICATE_DISTANCE_M", default=100)
REPORT_DUPLICATE_DAYS = env.int("REPORT_DUPLICATE_DAYS", default=30)
REPORT_NEAREST_POINT_M = env.int("REPORT_NEAREST_POINT_M", default=300)

# Rectification deadlines: working days by severity ("事不过二"); a check item may override.
# A problem closed within N days and failing again at the same point and item is a rebound (反弹).
DEADLINE_WORKING_DAYS = {
    "normal": env.int("DEADLINE_DAYS_NORMAL", default=5),
    "severe": env.int("DEADLINE_DAYS_SEVERE", default=2),
}
REBOUND_WINDOW_DAYS = env.int("REBOUND_WINDOW_DAYS", default=30)
# Reminders: N calendar days past the deadline the handler is reminded; M days past, the office is told.
REMINDER_OVERDUE_DAYS = env.int("REMINDER_OVERDUE_DAYS", default=3)
REMINDER_ESCALATE_DAYS = env.int("REMINDER_ESCALATE_DAYS", default=7)

# Notifications' pushes (accountability/notify.py, accountability/channels.py; README "通知与推送渠道").
# E-mail: on when a real mail backend is configured (EMAIL_URL or EMAIL_BACKEND) unless NOTIFY_EMAIL says otherwise.
NOTIFY_EMAIL = env.bool(
    "NOTIFY_EMAIL", default=not EMAIL_BACKEND.endswith(("console.EmailBackend", "locmem.EmailBackend"))
)
# The site's address before the links in pushed messages (empty: messages carry no link).
NOTIFY_SITE_URL = env("NOTIFY_SITE_URL", default="")
NOTIFY_HTTP_TIMEOUT = env.float("NOTIFY_HTTP_TIMEOUT", default=5)  # seconds, webhooks and the SMS gateway
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=5)  # then 放弃
NOTIFY_RETRY_BASE_SECONDS = env.int("NOTIFY_RETRY_BASE_SECONDS", default=30)  # backoff 30 s, 1 min, 2 min, …
# SMS: accountability.channels.ConsoleSmsBackend (log only), FileSmsBackend (JSON lines to
# SMS_FILE_PATH) or HttpSmsBackend (POST JSON to SMS_GATEWAY_URL with SMS_GATEWAY_TOKEN).
SMS_BACKEND = env("SMS_BACKEND", default="accountability.channels.ConsoleSmsBackend")
SMS_FILE_PATH = env("SMS_FILE_PATH", default="")
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env("SMS_GATEWAY_TOKEN", default="")
