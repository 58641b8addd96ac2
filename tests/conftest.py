"""Shared fixtures: alice owns team A, bob is a member of it, charlie is an outsider
(after healthchecks' hc/test.py)."""

import pytest

from converter.models import Membership
from converter.services.teams import team_create, team_create_personal


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-password-123")


@pytest.fixture
def team(alice):
    return team_create(name="Team A", owner=alice)


@pytest.fixture
def bob(django_user_model, team):
    user = django_user_model.objects.create_user("bob", password="bob-password-123")
    Membership.objects.create(team=team, user=user, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def charlie(django_user_model):
    user = django_user_model.objects.create_user("charlie", password="charlie-password-123")
    team_create_personal(user)
    return user
