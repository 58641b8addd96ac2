"""Mounted at hooks/api2convert/ by config/urls.py."""

from django.urls import path

from converter.web.views_api2convert_hooks import api2convert_callback

urlpatterns = [
    path("<id:job_id>/<str:secret>/", api2convert_callback, name="api2convert_callback"),
]
