"""The Celery app. Tasks live in converter/tasks.py; configuration comes from settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("flacconv")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
