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
