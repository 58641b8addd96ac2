"""Issuing, authenticating and revoking keys: service, management command, settings page."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from converter.models import ApiKey, Membership
from converter.services.api_keys import ApiKeyInvalid, key_authenticate, key_issue, key_revoke

pytestmark = pytest.mark.django_db


def test_only_prefix_and_salted_hash_are_stored(issued):
    row = ApiKey.objects.get()
    assert issued.key.startswith(row.prefix) and issued.key not in (row.key_hash, row.salt)
    assert len(row.key_hash) == 64 and row.signing_secret == issued.signing_secret


def test_authenticate_records_use(issued):
    assert key_authenticate(issued.key) == issued.api_key
    assert key_authenticate(issued.key) == issued.api_key
    row = ApiKey.objects.get()
    assert row.usage_count == 2 and row.last_used_at is not None


@pytest.mark.parametrize("mutate", [lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),
                                    lambda key: key[:12], lambda key: "", lambda key: "x" * 500])
def test_wrong_keys_are_refused(issued, mutate):
    assert key_authenticate(mutate(issued.key)) is None


def test_revoked_key_and_former_member_are_refused(issued, team, bob):
    key_revoke(issued.api_key)
    assert key_authenticate(issued.key) is None
    bobs = key_issue(team=team, user=bob, name="Bob's")
    Membership.objects.filter(user=bob).delete()
    assert key_authenticate(bobs.key) is None


def test_viewers_and_nameless_keys_are_refused(team, bob):
    Membership.objects.filter(user=bob).update(role=Membership.Role.VIEWER)
    with pytest.raises(ApiKeyInvalid):
        key_issue(team=team, user=bob, name="Viewer")
    with pytest.raises(ApiKeyInvalid):
        key_issue(team=team, user=team.memberships.get(role="owner").user, name="  ")


def test_command_create_prints_the_key_alone(team, alice, capsys):
    call_command("apikey", "create", "--user", "alice", "--team", team.slug, "--name", "CI")
    out = capsys.readouterr()
    key = out.out.strip()
    assert "\n" not in key and key_authenticate(key).name == "CI"
    assert "signing secret" in out.err

    call_command("apikey", "list")
    listing = capsys.readouterr().out
    assert key[:12] in listing and "CI" in listing and "active" in listing

    call_command("apikey", "revoke", key[:12])
    assert key_authenticate(key) is None


def test_command_errors(alice, charlie):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user"):
        call_command("apikey", "create", "--user", "nobody")
    with pytest.raises(CommandError, match="not a member"):
        call_command("apikey", "create", "--user", "alice", "--team", "no-such-team")
    with pytest.raises(CommandError, match="No key"):
        call_command("apikey", "revoke", "fk_nothing")


def test_settings_page_shows_a_new_key_once(client, alice, team):
    client.force_login(alice)
    response = client.post(reverse("api_keys"), {"name": "Laptop"})
    key = ApiKey.objects.get(name="Laptop")
    issued_key = response.context["issued"].key
    assert issued_key.startswith(key.prefix)
    assert issued_key in response.content.decode()
    listing = client.get(reverse("api_keys")).content.decode()
    assert key.prefix in listing and issued_key not in listing

    response = client.post(reverse("api_key_revoke", args=[key.pk]), follow=True)
    assert "revoked" in response.content.decode()
    assert ApiKey.objects.get().revoked_at is not None


def test_settings_page_scopes_and_permissions(client, issued, bob, charlie):
    client.force_login(charlie)
    assert issued.api_key.prefix not in client.get(reverse("api_keys")).content.decode()
    assert client.post(reverse("api_key_revoke", args=[issued.api_key.pk])).status_code == 404
    client.force_login(bob)  # a plain member may not revoke alice's key
    assert client.post(reverse("api_key_revoke", args=[issued.api_key.pk])).status_code == 403
    assert client.post(reverse("api_keys"), {"name": ""}).context["error"]
