"""Guessing is throttled: download passwords per output and per client, sign-ins by django-axes.
A download password never shows in a URL, a log line or a page."""

import logging
import os
import subprocess
import sys
import uuid

import pytest

from converter.client_address import client_address
from converter.models import Job
from converter.services import password_throttle
from converter.services.passwords import password_hashes_make
from tests.security.conftest import SECRET

pytestmark = pytest.mark.django_db


@pytest.mark.scaleout
def test_web_processes_share_the_counts(tmp_path):
    """Failures counted in one process throttle another: through the default cache (files under
    VAR_DIR), or the one CACHE_URL names (Redis in the scale-out run)."""
    env = {**os.environ, "VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    client = f"client-{uuid.uuid4()}"  # a shared Redis keeps other runs' counts
    script = "import django; django.setup(); from converter.services import password_throttle as t; {}"
    limit = password_throttle.MAX_FAILURES_PER_CLIENT
    fail = f"t.throttle_reserve('out', (), {client!r}, {limit})"
    subprocess.run([sys.executable, "-c", script.format(fail)], env=env, check=True)
    other = f"t.throttle_check('other', (), {client!r})"
    check = subprocess.run([sys.executable, "-c", script.format(other)], env=env,
                           capture_output=True, text=True)
    assert check.returncode == 1 and "PasswordThrottled" in check.stderr


def _guess(client, output, password, *, api=False, address="203.0.113.7"):
    if api:
        return client.get(f"/v2/dl/output/{output.pk}", headers={"X-Api2convert-Download-Password": password},
                          REMOTE_ADDR=address)
    return client.post(f"/outputs/{output.pk}/download", {"password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("api", [False, True], ids=["page", "api"])
def test_wrong_passwords_from_one_client_are_throttled_with_retry_after(client, alice, protected, api):
    client.force_login(alice)
    for _ in range(password_throttle.MAX_FAILURES_PER_CLIENT):
        assert _guess(client, protected, "wrong", api=api).status_code == 403
    response = _guess(client, protected, SECRET, api=api)  # even the right one: no oracle while blocked
    assert response.status_code == 429 and 0 < int(response["Retry-After"]) <= 15 * 60
    assert _guess(client, protected, SECRET, api=api, address="198.51.100.1").status_code == 200


def test_wrong_passwords_for_one_output_are_throttled_from_every_address(client, protected):
    addresses = [f"198.51.100.{n}" for n in range(password_throttle.MAX_FAILURES_PER_OUTPUT)]
    for address in addresses:
        assert _guess(client, protected, "wrong", api=True, address=address).status_code == 403
    assert _guess(client, protected, SECRET, api=True, address="192.0.2.99").status_code == 429


def test_a_guesser_on_many_addresses_does_not_lock_out_an_address_that_knows_the_password(client, protected):
    recipient = "192.0.2.10"
    assert _guess(client, protected, SECRET, api=True, address=recipient).status_code == 200
    for n in range(password_throttle.MAX_FAILURES_PER_OUTPUT):
        _guess(client, protected, "wrong", api=True, address=f"198.51.100.{n}")
    assert _guess(client, protected, SECRET, api=True, address="192.0.2.11").status_code == 429
    assert _guess(client, protected, SECRET, api=True, address=recipient).status_code == 200
    for _ in range(password_throttle.MAX_FAILURES_PER_CLIENT):  # its own guesses still count
        assert _guess(client, protected, "wrong", api=True, address=recipient).status_code == 403
    assert _guess(client, protected, SECRET, api=True, address=recipient).status_code == 429


def test_an_address_that_knew_the_old_password_is_held_back_once_it_changes(client, protected):
    recipient = "192.0.2.10"
    assert _guess(client, protected, SECRET, api=True, address=recipient).status_code == 200
    protected.password_hashes = password_hashes_make(["a-new-secret"])
    protected.save(update_fields=["password_hashes"])
    for n in range(password_throttle.MAX_FAILURES_PER_OUTPUT):
        _guess(client, protected, "wrong", api=True, address=f"198.51.100.{n}")
    assert _guess(client, protected, "a-new-secret", api=True, address=recipient).status_code == 429


def test_visits_without_a_password_and_right_passwords_do_not_count(client, alice, protected):
    client.force_login(alice)
    for _ in range(3 * password_throttle.MAX_FAILURES_PER_CLIENT):
        assert client.get(f"/outputs/{protected.pk}/download").status_code == 403  # the form
        assert _guess(client, protected, SECRET, api=True).status_code == 200


def test_the_password_is_never_in_a_url_a_log_or_a_page(client, alice, team, protected, caplog):
    caplog.set_level(logging.DEBUG)
    client.force_login(alice)
    pages = [client.post("/", {"download_password": SECRET, "files": []}),
             _guess(client, protected, "wrong"), _guess(client, protected, SECRET),
             client.get(f"/jobs/{protected.job_id}/"), client.get("/history/")]
    for response in pages:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert SECRET.encode() not in body
        assert SECRET not in response.get("Location", "")
        assert SECRET not in str(response.cookies)
    assert SECRET not in caplog.text
    assert not [job for job in Job.objects.all() if SECRET in str(job.options)]


def test_sign_in_is_locked_after_repeated_failures(client, alice, settings):
    statuses = [client.post("/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="203.0.113.9")
                .status_code for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]  # the form again, then locked
    response = client.post("/login/", {"username": "alice", "password": "alice-password-123"},
                           REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    other = client.post("/login/", {"username": "alice", "password": "alice-password-123"},
                        REMOTE_ADDR="198.51.100.4")
    assert other.status_code == 302  # locked per user and address, not for everyone


@pytest.mark.parametrize(("behind_proxy", "expected"), [(False, "10.0.0.2"), (True, "203.0.113.5")])
def test_the_client_is_the_proxys_last_forwarded_address_only_behind_a_proxy(rf, settings, behind_proxy,
                                                                             expected):
    settings.BEHIND_PROXY = behind_proxy
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    assert client_address(request) == expected


def test_forged_forwarded_addresses_do_not_escape_the_sign_in_lock(client, alice, settings):
    settings.BEHIND_PROXY = True
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.0.0.2",
                    HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 203.0.113.5")
    response = client.post("/login/", {"username": "alice", "password": "alice-password-123"},
                           REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="7.7.7.7, 203.0.113.5")
    assert response.status_code == 429
