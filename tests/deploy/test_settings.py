"""Configuration from the environment: production checks, secrets from files, storage choice."""

import json

import pytest

from .conftest import run_python

PRINT_SETTINGS = ("import json, config.settings as s; print(json.dumps({'secret_key': s.SECRET_KEY, "
                  "'database': s.DATABASES['default']['NAME'], 'storage': s.STORAGES['default']['BACKEND'], "
                  "'aws_secret': getattr(s, 'AWS_SECRET_ACCESS_KEY', None), "
                  "'transport': getattr(s, 'CELERY_BROKER_TRANSPORT_OPTIONS', {})}))")


@pytest.mark.parametrize("switches", [
    {},  # PRODUCTION=1 alone
    {"PRODUCTION": "0", "DEBUG": "0", "SECURE_SSL_REDIRECT": "1", "SECURE_COOKIES": "1",
     "SECURE_HSTS_SECONDS": "31536000", "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1", "SECURE_HSTS_PRELOAD": "1"},
], ids=["production-switch", "one-by-one"])
def test_check_deploy_is_clean(production_env, switches):
    result = run_python({**production_env, **switches}, "manage.py", "check", "--deploy",
                        "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_flags_an_unsafe_setup(production_env):
    result = run_python({**production_env, "PRODUCTION": "0"}, "manage.py", "check", "--deploy",
                        "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W008" in result.stderr  # SECURE_SSL_REDIRECT


def test_production_refuses_to_start_without_a_secret_key(production_env):
    del production_env["SECRET_KEY"]
    result = run_python(production_env, "-c", "import config.settings")
    assert result.returncode != 0 and "needs SECRET_KEY" in result.stderr


def test_secrets_come_from_files(production_env, tmp_path):
    del production_env["SECRET_KEY"]
    files = {"SECRET_KEY": "k" * 60, "DATABASE_URL": "postgres://flac:pw@db:5432/flac",
             "AWS_SECRET_ACCESS_KEY": "s3-secret"}
    for name, value in files.items():
        (tmp_path / name).write_text(value + "\n")
        production_env[f"{name}_FILE"] = str(tmp_path / name)
    production_env.update(STORAGE_BACKEND="s3", AWS_STORAGE_BUCKET_NAME="flac")
    result = run_python(production_env, "-c", PRINT_SETTINGS)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["secret_key"] == "k" * 60
    assert printed["database"] == "flac"
    assert printed["storage"] == "storages.backends.s3.S3Storage"
    assert printed["aws_secret"] == "s3-secret"


def test_redis_visibility_timeout_outlasts_the_longest_job(production_env):
    production_env.update(CELERY_BROKER_URL="redis://redis:6379/0", CELERY_TASK_SOFT_TIME_LIMIT="600")
    result = run_python(production_env, "-c", PRINT_SETTINGS)
    assert result.returncode == 0, result.stderr
    transport = json.loads(result.stdout)["transport"]
    assert transport["visibility_timeout"] > 600 + 300  # above the hard limit


@pytest.mark.parametrize("name, value", [("STORAGE_BACKEND", "ftp"), ("LOG_FORMAT", "xml")])
def test_a_bad_choice_is_named(production_env, name, value):
    result = run_python({**production_env, name: value}, "-c", "import config.settings")
    assert result.returncode != 0 and name in result.stderr
