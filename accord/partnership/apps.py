from django.apps import AppConfig


class PartnershipConfig(AppConfig):
    name = "accord.partnership"
    label = "partnership"
    verbose_name = "Partnership"
