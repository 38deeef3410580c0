"""gunicorn as gunicorn.conf.py sets it up, in front of the archive: a pasted paragraph
gets the archive's own message, and a client's X-Forwarded-Proto is trusted only when
the settings say a proxy is in front."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import BASE_DIR

# Pages here need only the static files' names, not collectstatic's manifest.
_SETTINGS = (
    "from archive.settings import *  # noqa: F403\n"
    "STORAGES = {**STORAGES, 'staticfiles': "  # noqa: F405
    "{'BACKEND': 'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def serve(tmp_path):
    """serve(**env) -> the address of a gunicorn started with gunicorn.conf.py."""
    servers = []
    (tmp_path / "gunicorn_test_settings.py").write_text(_SETTINGS)

    def start(**env) -> str:
        port = _free_port()
        clean = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "SECURE_PROXY_SSL_HEADER", "TRUSTED_PROXY_COUNT"}
        }
        clean.update(
            env,
            PYTHONPATH=f"{tmp_path}{os.pathsep}{BASE_DIR}",
            DJANGO_SETTINGS_MODULE="gunicorn_test_settings",
        )
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py"]
            + ["--bind", f"127.0.0.1:{port}", "--workers", "1", "archive.wsgi"],
            cwd=BASE_DIR,
            env=clean,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        servers.append(server)
        address = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{address}/api/", timeout=5).close()
                return address
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        raise AssertionError("gunicorn did not start")

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=30)


def _get(url: str, **headers) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_a_pasted_paragraph_gets_the_archives_message_not_gunicorns_414(serve):
    address = serve()
    paragraph = "Ukrainian forces said on Tuesday they had pushed back. " * 80  # 4,480 characters
    status, page = _get(f"{address}/search/?" + urllib.parse.urlencode({"q": paragraph}))
    assert status == 400
    assert "The search is too long: use at most 4000 characters." in page
    assert 'class="search-form"' in page  # the form, to shorten it


def test_x_forwarded_proto_is_ignored_with_no_proxy_in_the_settings(serve):
    address = serve()
    status, body = _get(f"{address}/api/", **{"X-Forwarded-Proto": "https"})
    assert status == 200
    assert '"openapi": "http://127.0.0.1:' in body


def test_x_forwarded_proto_is_trusted_from_the_proxy_the_settings_name(serve):
    address = serve(TRUSTED_PROXY_COUNT="1")
    status, body = _get(f"{address}/api/", **{"X-Forwarded-Proto": "https"})
    assert status == 200
    assert '"openapi": "https://127.0.0.1:' in body


def test_a_worker_keeps_what_it_loaded_out_of_the_garbage_collectors_passes():
    import gc
    import runpy

    config = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))
    assert gc.get_freeze_count() == 0
    try:
        config["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 10_000  # Django and the archive's modules
    finally:
        gc.unfreeze()


def test_a_worker_takes_the_next_connection_only_once_it_has_answered(serve):
    """Each worker answers one request at a time and then lets the connection go, so
    under load every request waits in the one queue of connections not yet taken,
    rather than behind the requests of a busy worker that took it."""
    parts = urllib.parse.urlsplit(serve())
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", "/api/")  # HTTP/1.1: asks to keep the connection
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        assert response.getheader("Connection") == "close"
    finally:
        connection.close()


def test_a_response_streamed_for_longer_than_the_timeout_is_not_cut_off(tmp_path):
    """An export of every match streams for as long as it takes: the worker timeout
    stops a worker that stops answering its master, not a long response."""
    (tmp_path / "slow_stream.py").write_text(
        "import time\n"
        "def application(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    for _ in range(4):\n"
        "        time.sleep(1)\n"
        "        yield b'rows\\n'\n"
    )
    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py"]
        + ["--bind", f"127.0.0.1:{port}", "--workers", "1", "slow_stream"],
        cwd=BASE_DIR,
        env={**os.environ, "PYTHONPATH": str(tmp_path), "GUNICORN_TIMEOUT": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as response:
                    body = response.read()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert body == b"rows\n" * 4
    finally:
        server.terminate()
        server.wait(timeout=30)
