from django.apps import AppConfig


class MaracConfig(AppConfig):
    name = "accord.marac"
    label = "marac"
    default_auto_field = "django.db.models.BigAutoField"
