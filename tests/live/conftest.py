"""Everything under tests/live/ runs the whole job path with a real worker (tests/workers.py):
one xdist group, and again on the scale-out services (`make test-scaleout`)."""

import os

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/live/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.xdist_group("live"))
            item.add_marker(pytest.mark.scaleout)
