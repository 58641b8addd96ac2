"""The download-password throttle holds: every password of a list counts, a window lasts its full
length on the file cache, and simultaneous guesses do not slip past the limit."""

import time
from concurrent.futures import ThreadPoolExecutor

import environ
import pytest
from django.core.cache import cache
from django.test import RequestFactory

from converter.services import password_throttle
from converter.services.downloads import password_check
from converter.services.password_throttle import MAX_FAILURES_PER_CLIENT, WINDOW_SECONDS, PasswordThrottled
from converter.services.passwords import password_hashes_make
from tests.security.conftest import SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {"default": environ.Env().cache("CACHE_URL", default="redis://127.0.0.1:6379/14")}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    """time.time, moved by hand: the throttle's clock and the file cache's expiry alike."""
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def _api(client, output, passwords: str):
    return client.get(f"/v2/dl/output/{output.pk}", headers={"X-Api2convert-Download-Password": passwords},
                      REMOTE_ADDR="203.0.113.7")


def _wrong(count: int) -> str:
    return ",".join(f"guess-{n}" for n in range(count))


def test_each_password_of_a_list_counts(client, protected):
    half = MAX_FAILURES_PER_CLIENT // 2
    assert _api(client, protected, _wrong(half)).status_code == 403
    assert _api(client, protected, _wrong(half + 1)).status_code == 429  # would pass the limit: not tried
    assert _api(client, protected, _wrong(half)).status_code == 403  # refused ones did not count
    response = _api(client, protected, SECRET)
    assert response.status_code == 429 and "Try again in 15 minutes" in response.json()["message"]


def test_the_form_counts_each_password_too(client, alice, protected):
    client.force_login(alice)
    url = f"/outputs/{protected.pk}/download"
    assert client.post(url, {"password": _wrong(MAX_FAILURES_PER_CLIENT)}).status_code == 403
    assert client.post(url, {"password": SECRET}).status_code == 429


def test_a_list_with_the_right_password_costs_nothing(client, protected):
    for _ in range(3 * MAX_FAILURES_PER_CLIENT):
        assert _api(client, protected, f"{_wrong(MAX_FAILURES_PER_CLIENT - 1)},{SECRET}").status_code == 200


def test_the_block_lasts_the_whole_window_on_the_file_cache(client, protected, file_cache, clock):
    """The file cache's incr re-sets its default timeout (300 s): the count must outlive it."""
    start = clock[0]
    assert _api(client, protected, "first-guess").status_code == 403  # the window starts here
    clock[0] += 200
    for _ in range(MAX_FAILURES_PER_CLIENT - 1):
        assert _api(client, protected, "guess").status_code == 403
    clock[0] += 310  # past 300 s after the last incr
    response = _api(client, protected, SECRET)
    assert response.status_code == 429
    assert int(response["Retry-After"]) == WINDOW_SECONDS - 510
    clock[0] = start + WINDOW_SECONDS - 5
    assert _api(client, protected, SECRET).status_code == 429
    clock[0] = start + WINDOW_SECONDS + 1  # a new window, counted from nothing
    assert _api(client, protected, SECRET).status_code == 200
    assert _api(client, protected, _wrong(MAX_FAILURES_PER_CLIENT)).status_code == 403


def _simultaneous_guesses(output, count: int, at_once: int) -> list[int]:
    """`count` wrong passwords from one client, `at_once` at a time: 403 checked, 429 refused."""
    output.job.password_hashes = password_hashes_make([SECRET])  # a real hash's time
    output.job.save(update_fields=["password_hashes"])
    factory = RequestFactory()

    def guess(n: int) -> int:
        request = factory.get("/", headers={"X-Api2convert-Download-Password": f"guess-{n}"},
                              REMOTE_ADDR="203.0.113.7")
        try:
            return 200 if password_check(request, output) else 403
        except PasswordThrottled:
            return 429

    with ThreadPoolExecutor(at_once) as pool:
        return list(pool.map(guess, range(count)))


def test_simultaneous_guesses_never_pass_the_limit_on_the_file_cache(protected, file_cache):
    """The file cache reads then rewrites a count: without its lock, 16 guesses at once got 25 checked."""
    statuses = _simultaneous_guesses(protected, 40, 16)
    assert statuses.count(403) == MAX_FAILURES_PER_CLIENT, statuses


@pytest.mark.scaleout
def test_simultaneous_guesses_never_pass_the_limit_on_redis(protected, redis_cache):
    """Redis counts atomically: exactly the limit is checked (CACHE_URL, as `make test-scaleout` sets it)."""
    statuses = _simultaneous_guesses(protected, 40, 16)
    assert statuses.count(403) == MAX_FAILURES_PER_CLIENT, statuses


def test_a_refund_in_a_new_window_gives_no_credit(file_cache, clock):
    reservation = password_throttle.throttle_reserve("out", (), "client", 3)
    clock[0] += WINDOW_SECONDS + 1
    password_throttle.throttle_reserve("out", (), "client", 1)
    password_throttle.throttle_refund(reservation)  # those 3 were counted in the old window
    with pytest.raises(PasswordThrottled):
        password_throttle.throttle_reserve("out", (), "client", MAX_FAILURES_PER_CLIENT)
