"""The settings page for API keys (HTML, in converter/web), mounted at /settings/api-keys/."""

from django.urls import path

from converter.web import views_api_keys

urlpatterns = [
    path("", views_api_keys.api_keys, name="api_keys"),
    path("<int:key_id>/revoke/", views_api_keys.api_key_revoke, name="api_key_revoke"),
]
