"""An API key's requests counted in a web process and not yet written (services/key_usage.py) are
written when gunicorn stops it: none is lost to a restart or a deploy."""

import urllib.request

import pytest

from converter.models import ApiKey
from converter.services.api_keys import key_issue
from tests.live.gunicorn import gunicorn_running

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("live")]


def test_the_counts_a_stopped_web_process_held_are_written(worker_env, tmp_path, team, alice):
    issued = key_issue(team=team, user=alice, name="Counted")
    env = {**worker_env, "API_KEY_USAGE_WRITE_EVERY": "3600"}  # nothing written but the first, until it stops
    with gunicorn_running(env, tmp_path / "gunicorn.log") as server:
        for _ in range(3):
            request = urllib.request.Request(f"http://127.0.0.1:{server.port}/v2/jobs",
                                             headers={"X-Api2convert-Api-Key": issued.key})
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 200
        assert ApiKey.objects.get(pk=issued.api_key.pk).usage_count == 1
        assert server.stop() == 0
    assert ApiKey.objects.get(pk=issued.api_key.pk).usage_count == 3
