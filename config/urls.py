import uuid

from django.contrib import admin
from django.urls import include, path, register_converter

from converter import health


class AnyCaseUUID:
    """A job's, input's or output's id in a URL, in either case. Django's `uuid` converter takes
    lower case only, so a client that prints UUIDs in upper case (Swift's `uuidString`, many
    databases' and spreadsheets' exports) got a 404 for a job that exists; RFC 9562 reads UUIDs
    case-insensitively. Links the app makes stay lower case."""

    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def to_python(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_url(self, value) -> str:
        return str(value)


register_converter(AnyCaseUUID, "id")  # before the includes below import the apps' URLs

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
