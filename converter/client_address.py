"""Who is asking, for throttles (download passwords, django-axes sign-ins)."""

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR; behind our own proxy (BEHIND_PROXY), the address the proxy appended last to
    X-Forwarded-For: every client would otherwise share the proxy's address, and the earlier
    entries are the client's own to forge."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "") if settings.BEHIND_PROXY else ""
    return forwarded.rsplit(",", 1)[-1].strip() or request.META.get("REMOTE_ADDR", "")
