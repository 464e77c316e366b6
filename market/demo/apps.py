from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "market.demo"
    verbose_name = "Demo data"
