"""Mounted at settings/team/ by config/urls.py."""

from django.urls import path

from converter.web import views_team_settings as views

urlpatterns = [
    path("", views.team_settings, name="team_settings"),
    path("api2convert-key/", views.key_store, name="team_settings_key_store"),
    path("api2convert-key/test/", views.key_test, name="team_settings_key_test"),
    path("api2convert-key/remove/", views.key_remove, name="team_settings_key_remove"),
    path("engine/", views.engine_set, name="team_settings_engine"),
]
