from django.apps import AppConfig


class AccountabilityConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accountability"
    verbose_name = "整改与评比"

    def ready(self) -> None:
        from indicators.signals import veto_events_changed
        from inspections.signals import observations_changed

        from .rollup import observations_changed_receiver

        observations_changed.connect(observations_changed_receiver, dispatch_uid="accountability-rollup-refresh")
        # A veto registered after its weeks were computed: recompute them (the same refresh).
        veto_events_changed.connect(observations_changed_receiver, dispatch_uid="accountability-veto-refresh")
