from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommonConfig(AppConfig):
    name = "market.common"
    verbose_name = _("Common")

    def ready(self) -> None:
        from market.common import lookups  # noqa: F401  registers the array lookups
