"""The project package and shared kernel: campaigns, units, people and their roles."""

from .celery import app as celery_app

__all__ = ("celery_app",)
