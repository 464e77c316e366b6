"""Redis cache: holds throttling counters, shared between every web process."""

from market.config.env import env

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("REDIS_URL", default="redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="market"),
    }
}
