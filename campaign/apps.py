from django.apps import AppConfig


class CampaignConfig(AppConfig):
    """The shared kernel: its section of the admin reads 基础数据 (units, campaigns, memberships, jobs)."""

    name = "campaign"
    verbose_name = "基础数据"
