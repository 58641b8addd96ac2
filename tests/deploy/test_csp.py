"""Every page is served with the Content-Security-Policy header (django-csp)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["login", "convert", "history"])
def test_pages_carry_the_policy(client, alice, team, name):
    if name != "login":
        client.force_login(alice)
    response = client.get(reverse(name))
    assert response.status_code == 200
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'self'"
    assert "unsafe" not in response["Content-Security-Policy"]
