"""Shared test set-up: real PostgreSQL holding the seed archive.

The seed articles are loaded once per test session the way an operator loads
them (`load_articles fixtures/seeds`), so tests see the archive a user sees.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

BASE_DIR = Path(__file__).resolve().parent.parent
SEEDS = BASE_DIR / "fixtures" / "seeds"
# Real inputs shared by the project, read in place (never copied into the repo).
CORPORA = BASE_DIR.parent / "shared" / "corpora"


def load_seeds() -> None:
    """The seed archive: the starting topics (which a flush of a transactional
    test removes along with everything else) and the seed articles."""
    from articles.models import Topic

    if not Topic.objects.exists():
        call_command("loaddata", str(BASE_DIR / "fixtures" / "topics.json"), verbosity=0)
    call_command("load_articles", str(SEEDS), verbosity=0)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.db import connection

    # pytest-django creates the test database only when a collected test is marked
    # for it; otherwise the connection still names the real one: leave it alone.
    if not connection.settings_dict["NAME"].startswith("test_"):
        return
    with django_db_blocker.unblock():
        load_seeds()


@pytest.fixture
def seed_archive(transactional_db):
    """For tests whose data must be committed (live server, subprocesses).
    Transactional tests empty the database afterwards, so reload when needed."""
    from articles.models import Article

    if not Article.objects.exists():
        load_seeds()


@pytest.fixture(autouse=True)
def _no_result_cache(settings):
    # Tests change the archive inside transactions that roll back, which never
    # move the content version on: cached pages would outlive them. The cache has
    # its own tests (tests/test_cache.py), which turn it back on.
    settings.RESULT_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    # Production serves hashed files from `collectstatic` (whitenoise manifest);
    # tests render pages straight from static/ instead.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
