"""Team fixtures: the shared page fixtures, plus a viewer (dave) and a client per user."""

import pytest

from converter.models import Membership
from tests.web.conftest import _pages, alice_client  # noqa: F401  (fixtures, used by name)


@pytest.fixture
def dave(django_user_model, team):
    user = django_user_model.objects.create_user("dave", password="dave-password-123")
    Membership.objects.create(team=team, user=user, role=Membership.Role.VIEWER)
    return user


@pytest.fixture
def client_of(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def membership(team, user) -> Membership:
    return Membership.objects.get(team=team, user=user)
