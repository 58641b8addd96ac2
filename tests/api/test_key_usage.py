"""An API key's use is written at most once an interval per key and process (services/key_usage.py):
an SDK's poll is reads only, and no request goes uncounted."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from converter.models import ApiKey, Membership
from converter.services import key_usage
from converter.services.api_keys import key_authenticate
from tests.api.conftest import new_job

pytestmark = pytest.mark.django_db(transaction=True)  # the timer's thread writes with its own connection


@pytest.fixture
def interval(settings):
    settings.API_KEY_USAGE_WRITE_EVERY = 0.3
    yield settings.API_KEY_USAGE_WRITE_EVERY
    key_usage.pending_write()  # no timer left to write into the next test's database


def _row(issued) -> ApiKey:
    return ApiKey.objects.get(pk=issued.api_key.pk)


def _updates(queries) -> int:
    return sum(query["sql"].startswith("UPDATE") for query in queries.captured_queries)


def _wait_for_count(issued, count: int) -> ApiKey:
    deadline = time.monotonic() + 10
    while (row := _row(issued)).usage_count != count and time.monotonic() < deadline:
        time.sleep(0.05)
    return row


def test_the_first_request_writes_at_once_and_the_interval_s_are_written_at_its_end(issued, interval):
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert key_authenticate(issued.key) == issued.api_key
    assert _updates(queries) == 1
    first = _row(issued)
    assert first.usage_count == 1 and first.last_used_at is not None

    later = _wait_for_count(issued, 5)
    assert later.usage_count == 5 and later.last_used_at > first.last_used_at


def test_steady_polling_writes_once_an_interval_and_a_quiet_key_writes_at_once_again(issued, interval):
    key_authenticate(issued.key)
    key_authenticate(issued.key)
    _wait_for_count(issued, 2)  # the interval's end wrote its one request and opened the next
    with CaptureQueriesContext(connection) as queries:
        key_authenticate(issued.key)
    assert _updates(queries) == 0  # counted within the interval its end opened
    assert _wait_for_count(issued, 3).usage_count == 3

    deadline = time.monotonic() + 10  # that interval ends with nothing more: the key is quiet
    while key_usage._intervals and time.monotonic() < deadline:
        time.sleep(0.05)
    with CaptureQueriesContext(connection) as queries:
        key_authenticate(issued.key)
    assert _updates(queries) == 1 and _row(issued).usage_count == 4


def test_what_a_process_holds_is_written_when_it_exits(issued, settings):
    settings.API_KEY_USAGE_WRITE_EVERY = 3600
    for _ in range(3):
        key_authenticate(issued.key)
    assert _row(issued).usage_count == 1
    key_usage.pending_write()  # registered with atexit
    assert _row(issued).usage_count == 3 and not key_usage._intervals


def test_a_timer_that_fires_as_the_process_exits_writes_nothing_more(issued, settings):
    settings.API_KEY_USAGE_WRITE_EVERY = 3600
    key_authenticate(issued.key)
    key_authenticate(issued.key)
    key_usage.pending_write()
    key_usage._interval_end(issued.api_key.pk)  # the timer's function, run once pending_write has ended it
    assert _row(issued).usage_count == 2


def test_refused_keys_are_not_counted(issued, team, alice, interval):
    Membership.objects.filter(team=team, user=alice).delete()
    assert key_authenticate(issued.key) is None
    assert _row(issued).usage_count == 0 and not key_usage._intervals


def test_an_sdk_s_poll_of_a_job_is_reads_only(api, issued, interval, django_assert_num_queries):
    job = new_job(api)
    # The key with its team, user and membership in one query; the job, its inputs, its outputs.
    with django_assert_num_queries(4) as captured:
        assert api("GET", f"/jobs/{job['id']}").status_code == 200
    assert _updates(captured) == 0
