from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "services.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from services.notify import tasks  # noqa: F401  registers the tasks the services queue by name
