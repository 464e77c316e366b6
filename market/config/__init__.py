"""Project configuration. The Celery app is loaded with Django, so that `shared_task`s (and `.delay()` calls
from the web, the consumers and the tests) bind to it rather than to Celery's unconfigured default app."""

from market.config.celery import app as celery_app

__all__ = ("celery_app",)
