"""The pages work under a strict CSP: no inline scripts, styles or event handlers."""

import re

from django.urls import reverse

HTMX = {"HTTP_HX_REQUEST": "true"}


def _assert_no_inline_code(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"\sstyle=", html), "inline style attribute"
    assert not re.search(r"<style", html), "inline <style>"
    assert not re.search(r"\s(on\w+|hx-on[:\w-]*)=", html), "inline event handler"


def test_pages_have_no_inline_code(client, alice_client, completed_job, running_job, protected_output):
    pages = [
        alice_client.get(reverse("convert")),
        alice_client.get(reverse("history")),
        alice_client.get(reverse("job_detail", args=[completed_job.pk])),
        alice_client.get(reverse("job_detail", args=[running_job.pk])),
        alice_client.get(reverse("output_download", args=[protected_output.pk])),
        alice_client.post(reverse("options_validate"), {"normalize": "true", "start": "x"}, **HTMX),
    ]
    for response in pages:
        _assert_no_inline_code(response.content.decode())
    assert "Content-Security-Policy" in pages[0].headers
    client.logout()
    for name in ("login", "signup"):
        _assert_no_inline_code(client.get(reverse(name)).content.decode())


def test_htmx_is_served_from_our_own_static_files(alice_client):
    html = alice_client.get(reverse("convert")).content.decode()
    assert re.search(r'<script src="/static/django_htmx/htmx-2[^"]*\.js"', html)
    assert '<meta name="htmx-config"' in html and '"includeIndicatorStyles": false' in html
    assert re.search(r'<body hx-headers=\'\{"X-CSRFToken": "[^"]+"\}\'>', html)
