"""Roles, removal, leaving and ownership transfer: the services' rules and the pages."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from converter.models import Membership, Team
from converter.services import teams
from converter.web.teams import SESSION_KEY
from tests.teams.conftest import membership

Role = Membership.Role


def test_create_team_makes_its_creator_owner_and_switches_to_it(client_of, alice, team):
    client = client_of(alice)
    response = client.post(reverse("team_create"), {"name": "Podcast crew"})
    assert response.url == reverse("team_members")
    new = Team.objects.get(name="Podcast crew")
    assert membership(new, alice).role == Role.OWNER
    assert client.session[SESSION_KEY] == new.pk
    assert "Podcast crew" in client.get(reverse("team_members")).content.decode()


def test_owner_changes_roles(client_of, alice, bob, team):
    target = membership(team, bob)
    client_of(alice).post(reverse("member_role", args=[target.pk]), {"role": Role.VIEWER})
    assert membership(team, bob).role == Role.VIEWER


def test_member_cannot_manage_members(client_of, alice, bob, team):
    owner = membership(team, alice)
    client = client_of(bob)
    assert client.post(reverse("member_role", args=[owner.pk]), {"role": Role.VIEWER}).status_code == 403
    assert client.post(reverse("member_remove", args=[owner.pk])).status_code == 403
    assert client.post(reverse("invite_create"), {"role": Role.MEMBER}).status_code == 403
    assert membership(team, alice).role == Role.OWNER


def test_admin_manages_members_but_not_owners(team, alice, bob, charlie):
    admin = Membership.objects.create(team=team, user=charlie, role=Role.ADMIN)
    teams.membership_role_set(actor=admin, target=membership(team, bob), role=Role.VIEWER)
    assert membership(team, bob).role == Role.VIEWER
    with pytest.raises(PermissionDenied):
        teams.membership_role_set(actor=admin, target=membership(team, alice), role=Role.MEMBER)
    with pytest.raises(PermissionDenied):
        teams.membership_role_set(actor=admin, target=membership(team, bob), role=Role.OWNER)
    with pytest.raises(PermissionDenied):
        teams.membership_remove(actor=admin, target=membership(team, alice))


def test_last_owner_cannot_be_demoted_or_leave(client_of, alice, bob, team):
    owner = membership(team, alice)
    with pytest.raises(teams.TeamRuleBroken):
        teams.membership_role_set(actor=owner, target=owner, role=Role.ADMIN)
    client = client_of(alice)
    response = client.post(reverse("team_leave"), follow=True)
    assert "The last owner cannot leave" in response.content.decode()
    assert membership(team, alice).role == Role.OWNER


def test_with_a_second_owner_the_first_may_step_down_and_leave(alice, bob, team):
    owner = membership(team, alice)
    teams.membership_role_set(actor=owner, target=membership(team, bob), role=Role.OWNER)
    teams.membership_role_set(actor=owner, target=owner, role=Role.ADMIN)
    teams.team_leave(membership(team, alice))
    assert not Membership.objects.filter(team=team, user=alice).exists()


def test_transfer_ownership(client_of, alice, bob, team):
    response = client_of(alice).post(reverse("member_transfer", args=[membership(team, bob).pk]))
    assert response.status_code == 302
    assert membership(team, bob).role == Role.OWNER
    assert membership(team, alice).role == Role.ADMIN


def test_only_an_owner_transfers(client_of, alice, bob, charlie, team):
    Membership.objects.create(team=team, user=charlie, role=Role.ADMIN)
    client = client_of(charlie)
    client.post(reverse("team_switch"), {"team": team.pk})
    assert client.post(reverse("member_transfer", args=[membership(team, bob).pk])).status_code == 403
    assert membership(team, alice).role == Role.OWNER


def test_member_leaves(client_of, alice, bob, team):
    client = client_of(bob)
    response = client.post(reverse("team_leave"))
    assert response.url == reverse("team_list")
    assert not Membership.objects.filter(team=team, user=bob).exists()
    # The next page falls back to a team bob still has (his personal one, made on demand).
    assert client.get(reverse("history")).status_code == 200


def test_owner_removes_a_member(client_of, alice, bob, team):
    client_of(alice).post(reverse("member_remove", args=[membership(team, bob).pk]))
    assert not Membership.objects.filter(team=team, user=bob).exists()


def test_personal_team_cannot_be_left(client_of, charlie):
    client = client_of(charlie)
    response = client.post(reverse("team_leave"), follow=True)
    assert "cannot leave your personal team" in response.content.decode()


def test_members_page_shows_controls_to_managers_only(client_of, alice, bob, team):
    html = client_of(alice).get(reverse("team_members")).content.decode()
    assert reverse("member_role", args=[membership(team, bob).pk]) in html
    assert reverse("invite_create") in html
    html = client_of(bob).get(reverse("team_members")).content.decode()
    assert "member_role" not in html and reverse("invite_create") not in html
    assert "alice" in html and "Owner" in html
