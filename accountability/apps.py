from django.apps import AppConfig


class AccountabilityConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accountability"
    verbose_name = "整改与问责"

    def ready(self) -> None:
        from inspections.signals import observations_changed

        from .rollup import observations_changed_receiver

        observations_changed.connect(observations_changed_receiver, dispatch_uid="accountability-rollup-refresh")
