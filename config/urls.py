from django.contrib import admin
from django.urls import include, path

from converter import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("v2/", include("converter.api.urls")),
    path("settings/api-keys/", include("converter.api.web_urls")),
    path("settings/team/", include("converter.web.team_settings_urls")),
    path("hooks/api2convert/", include("converter.web.api2convert_hook_urls")),
    path("", include("converter.web.urls")),
]

handler404 = "converter.web.not_found.not_found"
handler403 = "converter.web.not_found.forbidden"
