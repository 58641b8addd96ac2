"""An API key of team A, and a password-protected output, for the security tests."""

import pytest

from converter.models import Job
from converter.services.api_keys import key_issue
from tests.web.conftest import add_output, make_job


@pytest.fixture
def issued_key(team, alice) -> str:
    return key_issue(team=team, user=alice, name="Security tests").key


SECRET = "hunter2-correct-horse"  # the download password of `protected`


@pytest.fixture
def protected(team, alice):
    return add_output(make_job(team, alice, status=Job.Status.COMPLETED, progress=100.0, passwords=[SECRET]))
