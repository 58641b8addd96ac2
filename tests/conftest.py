"""Shared fixtures: alice owns team A, bob is a member of it, charlie is an outsider
(after healthchecks' hc/test.py)."""

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.filebased import FileBasedCache

from converter.models import Membership
from converter.services.teams import team_create, team_create_personal

pytest_plugins = ["tests.workers"]


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # The default cache is files under VAR_DIR, which every test process would share.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # Login-strength hashing costs ~0.5 s per user fixture; these tests are not about it.
    # PBKDF2 stays listed: download passwords are hashed with it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                                 "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    # Every API request writes its key's use at once (tests/api/test_key_usage.py: the intervals).
    settings.API_KEY_USAGE_WRITE_EVERY = 0
    # The cache outlives a test: no throttle counts or waveform claims from another one.
    cache.clear()
    yield
    cache.clear()


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


@pytest.fixture
def file_cache(settings, tmp_path):
    """The default backend outside the tests (the tests' settings give them LocMemCache)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                                   "LOCATION": str(tmp_path / "cache")}}
    assert isinstance(caches["default"], FileBasedCache)
