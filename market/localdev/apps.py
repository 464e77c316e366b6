from django.apps import AppConfig


class LocalDevConfig(AppConfig):
    name = "market.localdev"
    verbose_name = "Local development"
