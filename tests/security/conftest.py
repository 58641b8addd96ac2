"""An API key of team A for the security tests."""

import pytest

from converter.services.api_keys import key_issue


@pytest.fixture
def issued_key(team, alice) -> str:
    return key_issue(team=team, user=alice, name="Security tests").key
