"""Django REST framework, JWT bearer tokens and the OpenAPI schema."""

from datetime import timedelta

from market.config.env import env
from market.config.integrations.security import TRUSTED_PROXY_COUNT

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": [
        "market.common.filters.ParameterFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "market.common.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "market.common.pagination.CursorPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "market.common.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user": env.str("THROTTLE_USER", default="600/min"),
        "auth": env.str("THROTTLE_AUTH", default="20/min"),
    },
    "NON_FIELD_ERRORS_KEY": "non_field_errors",
    # throttles count by this client address; unset, DRF would take a forged X-Forwarded-For as the client
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=30)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    # a refresh token works once: each use returns a new one and blacklists the old, so a stolen token that
    # is replayed after its owner refreshed (or the other way round) is refused
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "网上技术市场 3.0 API",
    "DESCRIPTION": "Online technology market: patents, achievements, demands, experts and review.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "ListingStatusEnum": "market.catalog.models.ListingStatus",
        "OrganizationStatusEnum": "market.accounts.models.OrganizationStatus",
        # choice sets used under several field names: one schema name each (keeps `check --deploy` quiet)
        "ChannelEnum": "services.notify.models.Channel",
        "DeclineReasonEnum": "market.trading.models.DeclineReason",
        "OfferSideEnum": "market.trading.models.OfferSide",
        "DealStageEnum": "market.trading.models.DealStage",
        "ObjectionStatusEnum": "market.trading.models.ObjectionStatus",
        "AchievementStageEnum": "market.catalog.models.AchievementStage",
    },
}
