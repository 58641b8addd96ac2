"""Every URL pattern of the project, found by walking the resolver, so that a new URL is
covered by the security tests without anyone listing it."""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


@dataclass(frozen=True)
class Route:
    route: str  # e.g. "jobs/<id:job_id>/cancel/"
    name: str
    callback: object

    @property
    def params(self) -> list[str]:
        return [match.group(2) or match.group(3) for match in _PARAM.finditer(self.route)]

    @property
    def csrf_exempt(self) -> bool:
        return getattr(self.callback, "csrf_exempt", False)

    def path(self, values: dict[str, str]) -> str:
        """The route with each parameter replaced by values[name] (KeyError if one is missing)."""
        path = _PARAM.sub(lambda match: str(values[match.group(2) or match.group(3)]), self.route)
        return "/" + path.replace("^", "").replace("$", "")

    def __str__(self):
        return self.route


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield Route(prefix + str(pattern.pattern), pattern.name or "", pattern.callback)


def project_routes() -> list[Route]:
    """All routes but Django admin's (staff-only through admin_view; admin has its own tests)."""
    return [route for route in _walk(get_resolver().url_patterns) if not route.route.startswith("admin/")]
