"""CSRF on every form, security headers, CSP and framing, production cookie settings."""

import os
import subprocess
import sys

import pytest
from django.test import Client

from tests.security.routes import project_routes

pytestmark = pytest.mark.django_db

# Token-authenticated endpoints that carry no session: CSRF does not apply to them.
CSRF_EXEMPT_PREFIXES = ("v2/", "hooks/api2convert/")
_ID = "00000000-0000-4000-8000-000000000000"
FILLER = {"job_id": _ID, "input_id": _ID, "output_id": _ID, "invite_id": _ID, "key_id": 1, "membership_id": 1,
          "token": "t", "secret": "s", "path": "x"}


def test_only_token_authenticated_endpoints_are_csrf_exempt():
    exempt = {str(route) for route in project_routes() if route.csrf_exempt}
    assert exempt and all(route.startswith(CSRF_EXEMPT_PREFIXES) for route in exempt), exempt


@pytest.mark.parametrize("route", [r for r in project_routes() if not r.csrf_exempt], ids=str)
def test_every_post_without_a_token_is_refused(alice, team, route):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(route.path(FILLER), {"name": "x"})
    assert response.status_code in (403, 405), f"{route}: {response.status_code}"
    if response.status_code == 403:
        assert b"CSRF" in response.content


def test_security_headers_on_pages(client, alice, team):
    client.force_login(alice)
    for path in ("/", "/login/", "/history/"):
        response = client.get(path)
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        csp = response["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_production_settings_make_cookies_secure():
    """A fresh process with the production environment (settings are read once at import)."""
    env = {**os.environ, "SECURE_COOKIES": "1", "SECURE_SSL_REDIRECT": "1", "SECURE_HSTS_SECONDS": "31536000",
           "DJANGO_SETTINGS_MODULE": "config.settings"}
    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
            "s.SESSION_COOKIE_SAMESITE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split()[-6:] == ["True", "True", "True", "Lax", "True", "31536000"]


def test_the_session_cookie_is_httponly_and_samesite(client, alice):
    response = client.post("/login/", {"username": "alice", "password": "alice-password-123"})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
