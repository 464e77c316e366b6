"""Core Django settings. Each integration (database, cache, DRF, security, login lockout) has its own module
under `integrations/`; every value can be overridden from the environment."""

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from market.config.env import PACKAGE_ROOT, REPO_ROOT, env
from market.config.integrations.axes import *  # noqa: F403
from market.config.integrations.cache import *  # noqa: F403
from market.config.integrations.celery import *  # noqa: F403
from market.config.integrations.database import *  # noqa: F403
from market.config.integrations.drf import *  # noqa: F403
from market.config.integrations.elasticsearch import *  # noqa: F403
from market.config.integrations.email import *  # noqa: F403
from market.config.integrations.kafka import *  # noqa: F403
from market.config.integrations.notify import *  # noqa: F403
from market.config.integrations.security import *  # noqa: F403
from market.config.integrations.site import *  # noqa: F403
from market.config.integrations.web import *  # noqa: F403

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt",  # for its zh_Hans messages
    "rest_framework_simplejwt.token_blacklist",  # refresh tokens are single-use (rotated, then blacklisted)
    "axes",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "csp",
    "market.common",
    "market.accounts",
    "market.catalog",
    "market.events",
    "market.trading",
    "services.common",
    "services.audit",
    "services.search",
    "services.notify",
    "services.stats",
    "market.web",
    # local-development tooling and the demo data, installed for their commands only (`run_market`,
    # `seed_market`, `demo_credentials`): production imports nothing of them (see their __init__.py)
    "market.localdev",
    "market.demo",
]

MIDDLEWARE = [
    "market.common.errors.ApiErrorFormatMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "market.web.middleware.ApplicationErrorPageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # last: turns a sign-in refused for a locked account into the lockout answer
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked account before any password check
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "market.config.urls"
WSGI_APPLICATION = "market.config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "market.web.context.site",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "display_name", "first_name", "last_name", "email")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Chinese first; English through Accept-Language or the ?lang= switch of the browsable pages.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_ROOT / "locale"]
TIME_ZONE = env.str("MARKET_TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(REPO_ROOT / "staticfiles")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Where the real sample data lives (the shared/ folder beside the repository by default).
MARKET_SAMPLE_DATA_DIR = Path(
    env.str("MARKET_SAMPLE_DATA_DIR", default=str(REPO_ROOT.parent / "shared" / "data"))
)
# Password of every demo account the seed command creates (local use only).
MARKET_DEMO_PASSWORD = env.str("MARKET_DEMO_PASSWORD", default="demo-market-2026")
