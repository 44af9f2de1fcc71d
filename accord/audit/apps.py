from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "accord.audit"
    label = "audit"
    verbose_name = "Audit"
