"""The page fixtures of tests/web (logged-in clients, jobs made as rows)."""

from tests.web.conftest import _pages, alice_client, completed_job, running_job  # noqa: F401  (fixtures, used by name)
