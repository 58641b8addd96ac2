"""Helpers for running the project in a subprocess with a given environment only."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def production_env(tmp_path) -> dict:
    """A production environment, without whatever configuration this test run itself has."""
    return {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path), "VAR_DIR": str(tmp_path / "var"),
        "PRODUCTION": "1", "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "example.com", "CSRF_TRUSTED_ORIGINS": "https://example.com",
        "PUBLIC_URL": "https://example.com",
    }


def run_python(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
