from django.contrib import admin
from django.urls import include, path

from converter import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("v2/", include("converter.api.urls")),
    path("settings/api-keys/", include("converter.api.web_urls")),
    path("", include("converter.web.urls")),
]
