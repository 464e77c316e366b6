from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "market.catalog"
    verbose_name = _("Catalog")

    def ready(self) -> None:
        # registers the listing snapshot classes with the events, which decode and describe every listing
        # fact through them: each process has them from the start, whatever else it imports
        from market.catalog import snapshots  # noqa: F401
