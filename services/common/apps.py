from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsumerKitConfig(AppConfig):
    name = "services.common"
    label = "consumer_kit"
    verbose_name = _("Event consumers")
