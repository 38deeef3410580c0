"""Configuration comes from the environment and fails loudly when it is wrong."""

import os
import secrets
import subprocess
import sys

from tests.conftest import BASE_DIR

PRODUCTION_ENV = {
    "DATABASE_URL": "postgres://archive@localhost:5432/archive",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "archive.example.org",
}


def _run(code: str, **env) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with exactly these variables."""
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY", "DEBUG"}
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="archive.settings")
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_requires_a_secret_key_with_a_database_url():
    result = _run("pass", DATABASE_URL=PRODUCTION_ENV["DATABASE_URL"])
    assert result.returncode != 0
    assert "SECRET_KEY is required when DATABASE_URL is set" in result.stderr


def test_it_rejects_a_misspelt_boolean():
    result = _run("pass", **PRODUCTION_ENV, DEBUG="ture")
    assert result.returncode != 0
    assert "DEBUG='ture' is not a boolean" in result.stderr


def test_debug_is_off_unless_asked():
    result = _run("from django.conf import settings; print(settings.DEBUG)", **PRODUCTION_ENV)
    assert result.stdout.strip() == "False", result.stderr


def test_it_reads_secrets_from_files(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("from-a-file-" + "x" * 50 + "\n")
    env = {**PRODUCTION_ENV, "SECRET_KEY_FILE": str(key_file)}
    del env["SECRET_KEY"]
    result = _run("from django.conf import settings; print(settings.SECRET_KEY)", **env)
    assert result.stdout.strip() == "from-a-file-" + "x" * 50, result.stderr


def test_production_settings_pass_the_deploy_check():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env={**os.environ, **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_every_kind_of_setting_can_come_from_a_file(tmp_path):
    values = {
        "SECURE_HSTS_PRELOAD": "true\n",  # a boolean
        "TRUSTED_PROXY_COUNT": "2\n",  # a number
        "ALLOWED_HOSTS": "a.example.org,b.example.org\n",  # a list
        "RATE_LIMIT_API": "10/hour\n",  # a rate
    }
    env = dict(PRODUCTION_ENV)
    del env["ALLOWED_HOSTS"]
    for name, value in values.items():
        (tmp_path / name).write_text(value)
        env[f"{name}_FILE"] = str(tmp_path / name)
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_HSTS_PRELOAD, s.TRUSTED_PROXY_COUNT, s.ALLOWED_HOSTS, s.RATE_LIMIT_API)"
    )
    result = _run(code, **env)
    assert result.stdout.strip() == "True 2 ['a.example.org', 'b.example.org'] (10, 3600)", (
        result.stderr
    )


def test_a_boolean_is_true_or_false_and_nothing_else():
    for value in ("1", "yes", "on", "0", "no"):
        result = _run("pass", **PRODUCTION_ENV, SECURE_HSTS_PRELOAD=value)
        assert result.returncode != 0, value
        assert f"SECURE_HSTS_PRELOAD='{value}' is not a boolean: use true or false" in result.stderr
    code = "from django.conf import settings as s; print(s.SECURE_HSTS_PRELOAD, s.DEBUG)"
    result = _run(code, **PRODUCTION_ENV, SECURE_HSTS_PRELOAD="TRUE", DEBUG="False")
    assert result.stdout.strip() == "True False", result.stderr
