"""The api2convert-compatible API fuzzed by schemathesis from our own OpenAPI document, in-process
through the WSGI app, with an API key: whatever arrives, no 500. Bounded here; `make soak` runs more."""

import socket

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from config.wsgi import application
from converter import url_safety

schema = schemathesis.openapi.from_wsgi("/v2/openapi.json", application)
FIXTURES_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much]


@pytest.fixture
def offline(monkeypatch):
    """Random host names resolve to nothing at once, instead of waiting on DNS; and the WSGI
    app keeps the test's database connection (its transaction), as Django's test client does."""
    def unknown(*args, **kwargs):
        raise socket.gaierror("offline")

    monkeypatch.setattr(url_safety.socket, "getaddrinfo", unknown)
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def _call(case, key: str) -> None:
    case.call_and_validate(headers={"X-Api2convert-Api-Key": key}, checks=[not_a_server_error])


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=FIXTURES_OK)
def test_no_server_errors(case, issued_key, offline):
    _call(case, issued_key)


@pytest.mark.soak
@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=500, deadline=None, suppress_health_check=FIXTURES_OK)
def test_soak_no_server_errors(case, issued_key, offline):
    _call(case, issued_key)
