"""The team's api2convert key: encrypted at rest, rotated, tested, shown only as …last4,
never logged or sent back; the settings page is for owners and admins."""

import logging

import pytest
from cryptography.fernet import Fernet
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from converter.models import Api2convertAccount, Job, Membership, Team
from converter.providers.api2convert import crypto
from converter.selectors import engines_for
from converter.services.jobs import job_create
from converter.services.passwords import input_password
from tests.fake_api2convert import VALID_KEY
from tests.media import wav_bytes
from tests.providers.conftest import run_job


@pytest.fixture
def alice_client(client, alice, team):
    client.force_login(alice)
    return client


def test_the_key_is_stored_encrypted_with_its_last_four(account):
    assert VALID_KEY not in account.key_encrypted and account.key_last4 == VALID_KEY[-4:]
    assert crypto.decrypt(account.key_encrypted) == VALID_KEY


def test_rotation_reencrypts_with_the_first_key(account, settings, team, alice):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    Api2convertAccount.objects.filter(pk=account.pk).update(key_encrypted=crypto.encrypt(VALID_KEY))
    job = job_create(team=team, user=alice, options={}, input_password="zip-secret", process=False,
                     uploads=[SimpleUploadedFile("a.zip", wav_bytes())])
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_api2convert_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.FIELD_ENCRYPTION_KEYS = [new]
    account.refresh_from_db()
    assert crypto.decrypt(account.key_encrypted) == VALID_KEY
    assert input_password(job.inputs.get()) == "zip-secret"  # the input's password, rotated too
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError):
        call_command("rotate_api2convert_keys")


def test_a_pending_download_password_is_encrypted_too(team, alice, account):
    job = job_create(team=team, user=alice, options={"download_password": "hunter2"}, engine="api2convert",
                     uploads=[SimpleUploadedFile("a.wav", wav_bytes())])
    assert "hunter2" not in job.remote_password_encrypted
    assert crypto.decrypt(job.remote_password_encrypted) == "hunter2"
    local = job_create(team=team, user=alice, options={"download_password": "hunter2"},
                       uploads=[SimpleUploadedFile("a.wav", wav_bytes())])
    assert local.remote_password_encrypted == ""  # the embedded engine needs only the hashes


def test_engines_for_offers_api2convert_once_there_is_a_key(team, alice, fake):
    assert engines_for(team) == [("local", "Embedded engine")]
    Api2convertAccount.objects.create(team=team, key_encrypted=crypto.encrypt(VALID_KEY), key_last4="cdef")
    assert engines_for(team) == [("local", "Embedded engine"), ("api2convert", "api2convert")]
    team.default_engine = Team.Engine.API2CONVERT
    assert engines_for(team)[0][0] == "api2convert"


def test_settings_page_stores_tests_and_removes_the_key(alice_client, team, fake, caplog):
    caplog.set_level(logging.DEBUG)
    page = alice_client.get("/settings/team/")
    assert page.status_code == 200 and b"Store key" in page.content

    response = alice_client.post("/settings/team/api2convert-key/", {"key": VALID_KEY}, follow=True)
    assert response.status_code == 200 and f"…{VALID_KEY[-4:]}".encode() in response.content
    account = Api2convertAccount.objects.get(team=team)

    response = alice_client.post("/settings/team/api2convert-key/test/", follow=True)
    assert b"Valid" in response.content
    fake.account = 402
    assert b"Quota used up" in alice_client.post("/settings/team/api2convert-key/test/", follow=True).content
    fake.account = None
    fake.keys.clear()
    assert b"Invalid" in alice_client.post("/settings/team/api2convert-key/test/", follow=True).content
    account.refresh_from_db()
    assert account.check_result.startswith("Invalid") and account.checked_at

    alice_client.post("/settings/team/engine/", {"engine": "api2convert"})
    team.refresh_from_db()
    assert team.default_engine == "api2convert"
    alice_client.post("/settings/team/api2convert-key/remove/")
    team.refresh_from_db()
    assert not Api2convertAccount.objects.filter(team=team).exists() and team.default_engine == "local"
    assert fake.calls("GET", "/v2/contracts")[0]["X-Api2convert-Api-Key"] == VALID_KEY
    assert VALID_KEY not in caplog.text


def test_a_bad_key_is_refused_with_a_message(alice_client, team):
    response = alice_client.post("/settings/team/api2convert-key/", {"key": "no way"})
    assert response.status_code == 422 and b"does not look like" in response.content
    assert not Api2convertAccount.objects.filter(team=team).exists()


def test_api2convert_cannot_be_the_default_without_a_key(alice_client, team):
    alice_client.post("/settings/team/engine/", {"engine": "api2convert"})
    team.refresh_from_db()
    assert team.default_engine == "local"


@pytest.mark.parametrize("role", [Membership.Role.MEMBER, Membership.Role.VIEWER])
def test_members_and_viewers_may_not_touch_the_settings(client, team, bob, role, account):
    Membership.objects.filter(user=bob).update(role=role)
    client.force_login(bob)
    assert client.get("/settings/team/").status_code == 403
    assert client.post("/settings/team/api2convert-key/", {"key": "x" * 20}).status_code == 403
    assert client.post("/settings/team/api2convert-key/remove/").status_code == 403
    assert Api2convertAccount.objects.filter(team=team).exists()


def test_admins_may(client, team, bob):
    Membership.objects.filter(user=bob).update(role=Membership.Role.ADMIN)
    client.force_login(bob)
    assert client.get("/settings/team/").status_code == 200


def test_anonymous_is_sent_to_log_in(client):
    response = client.get("/settings/team/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_key_never_appears_in_logs_or_pages(alice_client, team, fake, make_job, scheduled, caplog):
    caplog.set_level(logging.DEBUG)
    job = make_job()
    run_job(job, scheduled)
    assert job.status == Job.Status.COMPLETED
    page = alice_client.get("/settings/team/")
    assert VALID_KEY not in page.content.decode()
    assert VALID_KEY not in caplog.text
    assert VALID_KEY[:-4] not in Api2convertAccount.objects.get(team=team).key_encrypted
