from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo landscape played around Junction by ``make run``; off in production."""

    name = "demo"
    verbose_name = "Demo landscape"
