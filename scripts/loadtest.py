#!/usr/bin/env python3
"""A bounded load test of the archive over loopback: mixed search, article,
browse and API requests from N concurrent clients, for a fixed time and at most
a fixed number of requests. Standard library only.

    # against a running server (rate limits off: every client here is 127.0.0.1)
    export RATE_LIMIT_SEARCH=off RATE_LIMIT_API=off
    .venv/bin/gunicorn --config gunicorn.conf.py archive.wsgi &
    .venv/bin/python scripts/loadtest.py --url http://127.0.0.1:8000 --clients 16 --duration 60

    # or let it start (and stop) gunicorn itself, with the environment it was given
    .venv/bin/python scripts/loadtest.py --serve --clients 16 --duration 60

It prints requests per second, latency percentiles (p50/p95/p99/max) overall and
per kind of request, and every error; --json writes the same as JSON. The exit
status is 1 when any request failed (a 5xx, a 429, a timeout or a broken
connection) or p99 exceeded --p99-target. See docs/reliability.md for results.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import math
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# Words and phrases an archive of war and world news is searched for: common
# ones (many matches to rank and facet), rare ones, phrases, exclusions, prefixes.
QUERIES = [
    "minister",
    "election",
    "Kyiv",
    "Ukraine",
    "Russia sanctions",
    "oil prices",
    "tanks",
    "ceasefire",
    "Blair",
    "Brown budget",
    "economy",
    "market shares",
    "film",
    "music award",
    "broadband",
    "mobile phone",
    "Iraq war",
    '"prime minister"',
    '"interest rates"',
    "nato or eu",
    "bank -england",
    "terror*",
    "Kiev",
    "zelenskyy",
    "inflation",
    "football",
    "court ruling",
    "missile strike",
    "refugees",
    "talks",
]
DEFAULT_MIX = "search=35,api=25,article=25,browse=10,home=5"
# Each search is plain, newest first, page 2 (400 when a query has one page of
# results: counted apart) or within dates.
SEARCH_VARIANTS = [
    {},
    {"sort": "newest"},
    {"page": "2"},
    {"from": "2004-01-01", "to": "2024-12-31"},
]
VARIANT_WEIGHTS = [0.65, 0.15, 0.10, 0.10]


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    error_examples: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, status: int | None, error: str = "") -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[status or "none"] += 1
            if error:
                self.errors[error] += 1
                self.error_examples.setdefault(error, kind)

    @property
    def count(self) -> int:
        return sum(len(values) for values in self.latencies.values())


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def _require_loopback(url: str) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme != "http" or not loopback:
        sys.exit(f"--url must be http:// on loopback (127.0.0.1, ::1, localhost), not {url}")
    return parts


class Client:
    """One keep-alive connection, reopened after any failure; or, with
    keepalive=False, a new connection per request (what a reverse proxy such as
    nginx does by default towards gunicorn)."""

    def __init__(self, parts: urllib.parse.SplitResult, timeout: float, keepalive: bool = True):
        self.parts, self.timeout, self.keepalive = parts, timeout, keepalive
        self.connection: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, bytes]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(
                self.parts.hostname, self.parts.port or 80, timeout=self.timeout
            )
        try:
            headers = {"Accept-Encoding": "identity"}
            if not self.keepalive:
                headers["Connection"] = "close"
            self.connection.request("GET", path, headers=headers)
            response = self.connection.getresponse()
            body = response.read()
        except Exception:
            self.close()
            raise
        if not self.keepalive or response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, body

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def discover(parts, timeout: float) -> dict[str, list[str]]:
    """Paths to request, found the way a reader finds them: from search results
    and the home page."""
    client = Client(parts, timeout)
    articles: set[str] = set()
    browse: set[str] = set()
    for query in QUERIES:
        status, body = client.get("/api/search/?" + urllib.parse.urlencode({"q": query}))
        if status != 200:
            continue
        for hit in json.loads(body).get("results", []):
            articles.add(urllib.parse.urlsplit(hit["url"]).path)
    status, body = client.get("/")
    if status == 200:
        links = re.findall(r'href="(/(?:entities|outlets|topics)/[^"/]+/)"', body.decode())
        browse.update(links)
    client.close()
    if not articles:
        sys.exit("No articles found through /api/search/: is the archive loaded?")
    return {"article": sorted(articles), "browse": sorted(browse) or ["/"]}


def request_path(kind: str, rng: random.Random, found: dict[str, list[str]]) -> str:
    if kind == "home":
        return "/"
    if kind == "article":
        return rng.choice(found["article"])
    if kind == "browse":
        return rng.choice(found["browse"])
    variant = rng.choices(SEARCH_VARIANTS, VARIANT_WEIGHTS)[0]
    prefix = "/api/search/" if kind == "api" else "/search/"
    return search_path(prefix, rng.choice(QUERIES), variant)


def search_path(prefix: str, query: str, variant: dict[str, str]) -> str:
    return prefix + "?" + urllib.parse.urlencode({"q": query, **variant})


def warm(parts, timeout: float, found: dict[str, list[str]]) -> int:
    """Request every page this test can ask for once, one at a time: every search
    (the page and the API share one cache entry), article, browse page and the home
    page. What follows is the steady state of a site whose popular pages are cached.
    Returns the requests made."""
    client = Client(parts, timeout)
    paths = ["/", *found["browse"], *found["article"]]
    paths += [search_path("/api/search/", q, v) for q in QUERIES for v in SEARCH_VARIANTS]
    for path in paths:
        client.get(path)
    client.close()
    return len(paths)


def run_client(number, args, parts, found, mix, results, deadline, budget) -> None:
    rng = random.Random(args.seed * 1000 + number)
    kinds, weights = zip(*mix.items(), strict=True)
    client = Client(parts, args.timeout, keepalive=not args.no_keepalive)
    while time.monotonic() < deadline and budget.acquire(blocking=False):
        kind = rng.choices(kinds, weights)[0]
        path = request_path(kind, rng, found)
        started = time.monotonic()
        try:
            status, _ = client.get(path)
        except (OSError, http.client.HTTPException) as exc:
            results.record(kind, time.monotonic() - started, None, type(exc).__name__)
            continue
        elapsed = time.monotonic() - started
        error = f"HTTP {status}" if status >= 500 or status == 429 else ""
        results.record(kind, elapsed, status, error)
    client.close()


def _parse_mix(text: str) -> dict[str, float]:
    mix = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name.strip() not in {"search", "api", "article", "browse", "home"}:
            sys.exit(f"--mix: unknown kind {name!r}")
        mix[name.strip()] = float(weight)
    return mix


def serve(args) -> tuple[subprocess.Popen, str]:
    """gunicorn on a free loopback port, with this environment and no rate limits."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "RATE_LIMIT_SEARCH": "off", "RATE_LIMIT_API": "off"}
    python = Path(sys.executable)
    subprocess.run(
        [str(python), "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    command = [str(python.parent / "gunicorn"), "--config", "gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null"]
    if args.workers:
        command += ["--workers", str(args.workers)]
    server = subprocess.Popen([*command, "archive.wsgi"], cwd=BASE_DIR, env=env)
    url = f"http://127.0.0.1:{port}"
    probe = Client(urllib.parse.urlsplit(url), 5)
    for _ in range(300):
        try:
            if probe.get("/healthz")[0] == 200:
                return server, url
        except (OSError, http.client.HTTPException):
            probe.close()
        time.sleep(0.2)
    server.terminate()
    sys.exit("gunicorn did not answer /healthz within a minute")


def report(results: Results, elapsed: float, args, found) -> dict:
    all_latencies = [value for values in results.latencies.values() for value in values]
    rows = {"all": all_latencies, **results.latencies}
    summary = {
        "clients": args.clients,
        "keepalive": not args.no_keepalive,
        "warmed": args.warm,
        "duration_s": round(elapsed, 1),
        "requests": results.count,
        "requests_per_s": round(results.count / elapsed, 1) if elapsed else 0,
        "errors": sum(results.errors.values()),
        "error_kinds": dict(results.errors),
        "statuses": {str(k): v for k, v in sorted(results.statuses.items(), key=str)},
        "paths_known": {kind: len(paths) for kind, paths in found.items()},
        "latency_ms": {
            kind: {
                "n": len(values),
                "p50": round(percentile(values, 0.50) * 1000, 1),
                "p95": round(percentile(values, 0.95) * 1000, 1),
                "p99": round(percentile(values, 0.99) * 1000, 1),
                "max": round(max(values, default=0) * 1000, 1),
            }
            for kind, values in rows.items()
        },
    }
    print(
        f"{summary['requests']} requests in {summary['duration_s']} s from {args.clients} "
        f"clients: {summary['requests_per_s']} requests/s, {summary['errors']} errors"
    )
    print(f"{'kind':<8} {'n':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind, figures in summary["latency_ms"].items():
        print(
            f"{kind:<8} {figures['n']:>7} {figures['p50']:>8} {figures['p95']:>8} "
            f"{figures['p99']:>8} {figures['max']:>8}"
        )
    print("statuses:", summary["statuses"])
    for error, count in results.errors.items():
        print(f"ERROR {error}: {count} (first on a {results.error_examples[error]} request)")
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="Loopback only.")
    parser.add_argument("--serve", action="store_true", help="Start gunicorn for the run.")
    parser.add_argument("--workers", type=int, help="gunicorn workers with --serve.")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60.0, help="Seconds of load.")
    parser.add_argument("--max-requests", type=int, default=200_000, help="Stop after this many.")
    parser.add_argument("--timeout", type=float, default=30.0, help="Per request, seconds.")
    parser.add_argument(
        "--no-keepalive",
        action="store_true",
        help="A new connection per request, as behind a proxy that does not keep them.",
    )
    parser.add_argument("--mix", default=DEFAULT_MIX, help=f"Weights (default {DEFAULT_MIX}).")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--warm",
        action="store_true",
        help="Request every page once before timing (the steady state of a cached site).",
    )
    parser.add_argument("--p99-target", type=float, default=1.0, help="Seconds.")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 256 or not 0 < args.duration <= 3600:
        parser.error("--clients must be 1 to 256 and --duration at most 3600 seconds")

    server = None
    if args.serve:
        server, args.url = serve(args)
    try:
        parts = _require_loopback(args.url)
        found = discover(parts, args.timeout)
        if args.warm:
            started = time.monotonic()
            made = warm(parts, args.timeout, found)
            print(f"Warmed with {made} requests in {time.monotonic() - started:.1f} s")
        mix = _parse_mix(args.mix)
        results = Results()
        budget = threading.Semaphore(args.max_requests)
        started = time.monotonic()
        deadline = started + args.duration
        threads = [
            threading.Thread(
                target=run_client,
                args=(n, args, parts, found, mix, results, deadline, budget),
                daemon=True,
            )
            for n in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.duration + args.timeout + 10)
        summary = report(results, time.monotonic() - started, args, found)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    failed = summary["errors"] > 0 or summary["latency_ms"]["all"]["p99"] > args.p99_target * 1000
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
