"""Django settings for yiwang.

Everything comes from the environment; the defaults are safe for development on the
embedded SQLite database and are refused by ``yw check-deploy`` in production.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("YIWANG_VAR_DIR", PROJECT_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Development defaults. check-deploy refuses every value that starts with DEV_MARKER.
DEV_MARKER = "insecure-dev-"
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_MARKER + "secret-key-do-not-use-in-production")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "yiwang.core",
    "yiwang.accounts",
    "yiwang.services",
    "yiwang.events",
    "yiwang.registry",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "yiwang.core.middleware.RequestContextMiddleware",
    "yiwang.core.middleware.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "yiwang.urls"
WSGI_APPLICATION = "yiwang.wsgi.application"
ASGI_APPLICATION = "yiwang.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yiwang.core.context_processors.shell",
            ],
        },
    },
]

# Database: SQLite in var/ by default, PostgreSQL in production via DATABASE_URL.
VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "static").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'yiwang.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the task worker use the file at the same time.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" \
        and os.environ.get("YW_PG_JIT", "off") == "off":
    # No JIT: the statistics and figures aggregates run in tens of milliseconds on the
    # rows they touch, but their cost estimates (millions of events) make PostgreSQL
    # compile them first, for seconds (measured on the event figures at 1 M events).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "yiwang.accounts.backends.YiwangBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:home"

# Lockout after repeated failures (django-axes): 5 failures lock the username+IP for 30 min.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.5"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

# Sessions and cookies.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG and "DATABASE_URL" in os.environ)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool(
    "BEHIND_TLS_PROXY", False) else None
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "style-src": ["'self'"],
        "script-src": ["'self'"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# Request size limits: oversized JSON gets a 413 in the API's error format.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Languages: zh-Hans first, zh-Hant for Hong Kong and Macao residents, English.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [
    ("zh-hans", _("Simplified Chinese")),
    ("zh-hant", _("Traditional Chinese")),
    ("en", _("English")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media")},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("YIWANG_MANIFEST_STATIC", False)  # after collectstatic, in production
        else "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", True)

# Background tasks: django-tasks with its database backend; RQ for multi-node deployments.
TASK_BACKEND = os.environ.get("YIWANG_TASK_BACKEND", "database")
TASKS = {
    "default": {
        "BACKEND": {
            "database": "django_tasks_db.DatabaseBackend",
            "rq": "django_tasks_rq.RQBackend",
            "immediate": "django_tasks.backends.immediate.ImmediateBackend",
        }[TASK_BACKEND],
        "QUEUES": ["default", "notifications"],
    }
}
if TASK_BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {
        name: {"URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")}
        for name in ("default", "notifications")
    }

# Email and SMS (notifications outbox).
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "outbox" / "email"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "yiwang@localhost")
YIWANG_SMS_GATEWAY = os.environ.get("YIWANG_SMS_GATEWAY", "file")  # file | console | http
YIWANG_SMS_URL = os.environ.get("YIWANG_SMS_URL", "")
YIWANG_SMS_TOKEN = os.environ.get("YIWANG_SMS_TOKEN", "")
YIWANG_SMS_DIR = VAR_DIR / "outbox" / "sms"
YIWANG_NOTIFY_MAX_ATTEMPTS = int(os.environ.get("YIWANG_NOTIFY_MAX_ATTEMPTS", "5"))

# Personal-data cryptography (SM4-GCM at rest, HMAC-SM3 blind index).
# YIWANG_SM4_KEYS="kid1:<32 hex>,kid2:<32 hex>"; the active key encrypts, all keys decrypt.
YIWANG_SM4_KEYS = os.environ.get("YIWANG_SM4_KEYS", "")
YIWANG_SM4_ACTIVE_KEY_ID = os.environ.get("YIWANG_SM4_ACTIVE_KEY_ID", "")
YIWANG_BLIND_INDEX_KEY = os.environ.get("YIWANG_BLIND_INDEX_KEY", "")

# The district this deployment serves (demo: 示范区).
YIWANG_DISTRICT_CODE = os.environ.get("YIWANG_DISTRICT_CODE", "440399000000")
YIWANG_URGENT_HOURS = int(os.environ.get("YIWANG_URGENT_HOURS", "24"))
# 容缺: working days after the reminder before a case with missing materials is terminated.
YIWANG_DEFICIENCY_GRACE_DAYS = int(os.environ.get("YIWANG_DEFICIENCY_GRACE_DAYS", "3"))
# 好差评: working days to rectify after a bad rating.
YIWANG_RECTIFICATION_DAYS = int(os.environ.get("YIWANG_RECTIFICATION_DAYS", "15"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "django.request": {"level": "ERROR"}},
}

# Case materials: stored by the default storage (VAR_DIR/media, which no URL serves: files
# reach users only through views that check scope). Types are sniffed from the content.
YIWANG_UPLOAD_MAX_BYTES = int(os.environ.get("YIWANG_UPLOAD_MAX_BYTES", str(20 * 1024 * 1024)))
YIWANG_UPLOAD_TYPES = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "application/ofd": ".ofd",  # 版式文档 GB/T 33190 (a ZIP container)
}

# 一网统管 events: deadlines by appeal type in working days (Guangdong 12345 rules, 2022);
# urgent items count YIWANG_URGENT_HOURS; first contact with the citizen within 24 hours.
YIWANG_EVENT_LIMITS = {"consult": 2, "help": 10, "suggestion": 10, "complaint": 15,
                       "report": 15}
YIWANG_EVENT_RESPONSE_HOURS = int(os.environ.get("YIWANG_EVENT_RESPONSE_HOURS", "24"))
YIWANG_EVENT_MAX_EXTENSION_DAYS = int(os.environ.get("YIWANG_EVENT_MAX_EXTENSION_DAYS", "15"))
# 内外双循环: working days a responsible party has before enforcement takes over.
YIWANG_EXTERNAL_LOOP_DAYS = int(os.environ.get("YIWANG_EXTERNAL_LOOP_DAYS", "2"))
# The public address of this deployment, for links in SMS messages.
YIWANG_PUBLIC_URL = os.environ.get("YIWANG_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# Auto-dispatch when the classifier's top score reaches this (per item: the catalog).
YIWANG_AUTO_DISPATCH_THRESHOLD = float(os.environ.get("YIWANG_AUTO_DISPATCH_THRESHOLD", "0.6"))
# 督办: "due soon" this many working days (or hours for urgent items) before the deadline.
YIWANG_EVENT_WARNING_DAYS = 1
YIWANG_EVENT_WARNING_HOURS = 2
# Overdue rules: in one of these states and late by N hours → urge, or escalate a level.
YIWANG_EVENT_RULES = [
    {"name": "late-sign-off", "status": ["dispatched"], "overdue_hours": 0, "action": "urge"},
    {"name": "late-handling", "status": ["accepted", "in_progress"], "overdue_hours": 0,
     "action": "urge"},
    {"name": "stuck-48h", "status": ["dispatched", "accepted"], "overdue_hours": 48,
     "action": "escalate"},
]

# PDF notices: a TrueType CJK font to embed ("path" or "path#index" for a .ttc, or
# "STSong-Light" for the non-embedded Adobe CID font); empty: the first one found.
YIWANG_PDF_FONT = os.environ.get("YIWANG_PDF_FONT", "")
# The body that hears 行政复议 against a notice; empty: "<district>人民政府".
YIWANG_NOTICE_REVIEW_BODY = os.environ.get("YIWANG_NOTICE_REVIEW_BODY", "")
