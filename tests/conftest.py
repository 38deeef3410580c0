"""Shared test set-up: real PostgreSQL holding the seed archive.

The seed articles are loaded once per test session the way an operator loads
them (`load_articles fixtures/seeds`), so tests see the archive a user sees.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
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
        if _tantivy():
            django_settings.SEARCH_INDEX_DIR = SEED_INDEX
        load_seeds()
        if _tantivy():
            _build_seed_index()


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


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """`with commits(): ...` runs, when the block ends, what would run on commit (the
    tests' transactions never commit): the content version moves on as after a
    real change, so cached figures and the archive's overview follow it."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _static_files_without_collectstatic(settings):
    # Production serves hashed files from `collectstatic` (whitenoise manifest);
    # tests render pages straight from static/ instead.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# --- The search backend --------------------------------------------------------
# The suite runs with SEARCH_BACKEND from the environment; CI runs the search,
# API, export, feed and browser tests a second time with SEARCH_BACKEND=tantivy.
# The tantivy index lives outside the database, so it cannot roll back with a
# test: each test gets its own copy of the seed archive's index (or, when its data
# is committed, one rebuilt from the database), and what a test changes reaches it
# through the outbox, as in production.

SEED_INDEX = Path(tempfile.mkdtemp(prefix="seed-search-index-"))


def _tantivy() -> bool:
    return django_settings.SEARCH_BACKEND == "tantivy"


def _build_seed_index() -> None:
    from articles.search import outbox

    outbox.rebuild()  # a reused test database has its seeds already


def pytest_collection_modifyitems(config, items):
    if not _tantivy():
        return
    skip = pytest.mark.skip(reason="about the postgres backend (SEARCH_BACKEND=tantivy)")
    for item in items:
        if item.get_closest_marker("postgres_only"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _search_index(request, settings, tmp_path_factory):
    """With the tantivy backend, an index of this test's own, outside its `tmp_path`
    (which tests load as a folder of inputs)."""
    if not _tantivy():
        return
    settings.SEARCH_INDEX_DIR = tmp_path_factory.mktemp("search-index") / "index"
    marker = request.node.get_closest_marker("django_db")
    committed = marker is not None and marker.kwargs.get("transaction")
    if committed or {"transactional_db", "live_server"} & set(request.fixturenames):
        from articles.search import outbox

        request.getfixturevalue("transactional_db")
        outbox.rebuild()
    elif marker is not None or "db" in request.fixturenames:
        shutil.copytree(SEED_INDEX, settings.SEARCH_INDEX_DIR)
