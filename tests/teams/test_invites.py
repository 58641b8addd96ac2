"""Invites: by link (hashed, single use, expiring) and by username."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from converter.models import Invite, Membership
from converter.services import invites
from converter.web.teams import SESSION_KEY
from tests.teams.conftest import membership


def _link(client) -> str:
    client.post(reverse("invite_create"), {"role": Membership.Role.VIEWER})
    link = client.get(reverse("team_members")).context["new_link"]
    return link.split("testserver", 1)[1]


@pytest.fixture
def link(client_of, alice, team):
    return _link(client_of(alice))


def test_link_stores_only_a_hash_and_is_shown_once(client_of, alice, team):
    client = client_of(alice)
    link = _link(client)
    token = link.rstrip("/").rsplit("/", 1)[1]
    invite = Invite.objects.get(team=team)
    assert invite.token_hash == invites.token_hash(token) and token not in invite.token_hash
    assert token not in client.get(reverse("team_members")).content.decode()


def test_link_joins_once(client_of, link, team, charlie, django_user_model):
    client = client_of(charlie)
    page = client.get(link)
    assert page.status_code == 200 and "Join Team A" in page.content.decode()
    response = client.post(link)
    assert response.url == reverse("history")
    assert membership(team, charlie).role == Membership.Role.VIEWER
    assert client.session[SESSION_KEY] == team.pk
    dave = django_user_model.objects.create_user("dave2", password="x-password-123")
    assert client_of(dave).post(link).status_code == 404  # used
    assert not Membership.objects.filter(team=team, user=dave).exists()


def test_expired_link_does_not_work(client_of, link, charlie):
    Invite.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client = client_of(charlie)
    assert client.get(link).status_code == 404
    assert client.post(link).status_code == 404
    assert "does not work" in client.get(link).content.decode()


def test_wrong_token_is_a_404(client_of, link, charlie):
    assert client_of(charlie).get(link[:-3] + "xyz/").status_code == 404


def test_link_for_a_member_already(client_of, link, bob, team):
    client = client_of(bob)
    assert "member of Team A already" in client.get(link).content.decode()
    response = client.post(link, follow=True)
    assert "member of Team A already" in response.content.decode()
    assert membership(team, bob).role == Membership.Role.MEMBER
    assert Invite.objects.get().used_at is None  # still usable by whom it was meant for


def test_revoked_link_does_not_work(client_of, alice, team, charlie):
    client = client_of(alice)
    link = _link(client)
    client.post(reverse("invite_revoke", args=[Invite.objects.get().pk]))
    assert client_of(charlie).post(link).status_code == 404


def test_invite_by_username(client_of, alice, team, charlie):
    response = client_of(alice).post(reverse("invite_create"), {"username": "Charlie", "role": "admin"},
                                     follow=True)
    assert "charlie is invited" in response.content.decode()
    invite = Invite.objects.get(user=charlie)
    client = client_of(charlie)
    assert "Team A" in client.get(reverse("team_list")).content.decode()
    client.post(reverse("invitation_accept", args=[invite.pk]))
    assert membership(team, charlie).role == Membership.Role.ADMIN


def test_invite_by_username_is_for_that_user_only(client_of, alice, bob, team, charlie):
    client_of(alice).post(reverse("invite_create"), {"username": "charlie", "role": "member"})
    invite = Invite.objects.get(user=charlie)
    other = client_of(bob)
    assert other.post(reverse("invitation_accept", args=[invite.pk])).status_code == 404
    assert other.post(reverse("invitation_decline", args=[invite.pk])).status_code == 404
    client = client_of(charlie)
    client.post(reverse("invitation_decline", args=[invite.pk]))
    assert not Invite.objects.exists()
    assert not Membership.objects.filter(team=team, user=charlie).exists()


def test_invite_by_username_errors(client_of, alice, bob, team):
    client = client_of(alice)
    assert "no user called" in client.post(reverse("invite_create"), {"username": "nobody"},
                                           follow=True).content.decode()
    assert "member already" in client.post(reverse("invite_create"), {"username": "bob"},
                                           follow=True).content.decode()
    assert not Invite.objects.exists()


def test_admin_cannot_invite_an_owner(team, alice, charlie):
    admin = Membership.objects.create(team=team, user=charlie, role=Membership.Role.ADMIN)
    with pytest.raises(PermissionDenied):
        invites.invite_link_create(actor=admin, role=Membership.Role.OWNER)


def test_someone_new_signs_up_from_the_link_and_comes_back_to_it(link, team):
    client = Client()
    login_page = client.get(link, follow=True)
    assert login_page.request["PATH_INFO"] == reverse("login")
    signup = f"{reverse('signup')}?next={quote(link)}"
    assert f'href="{signup}"' in login_page.content.decode()
    assert f'name="next" value="{link}"' in client.get(signup).content.decode()
    response = client.post(reverse("signup"), {"username": "newcomer", "password1": "a-long-passphrase-9",
                                               "password2": "a-long-passphrase-9", "next": link})
    assert response.url == link
    assert "Join Team A" in client.get(link).content.decode()


def test_signup_goes_nowhere_else_than_this_site(client):
    response = client.post(reverse("signup"), {"username": "newcomer", "password1": "a-long-passphrase-9",
                                               "password2": "a-long-passphrase-9", "next": "https://evil.test/"})
    assert response.url == reverse("convert")
