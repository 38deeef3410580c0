"""`manage.py benchmark [--articles N] [--backend postgres|tantivy] [--json PATH]`:
measured figures, side by side with the raw SQL match (the floor) and a BM25 peer
(tantivy) on the same corpus.

Builds (or reuses) the corpus, loads it with the bulk path when the archive does
not hold it yet, then measures warm latency through `/api/search/` (Django's test
Client: URL routing, filters, search, JSON), the full search page and the home page
over HTTP with concurrent clients against gunicorn on 127.0.0.1, load rates, and
sizes. For each query class it also sets the backend's answer against the exact one
computed in SQL over every match (articles/bench/exact.py): top-10 agreement with
the archive's BM25, exact count, exact facets. `--backend` chooses the search
backend for the run and times the build of its index.
`--ir` adds ranking quality on the judged collections (loads them into this
database under their own outlets; use a separate PGDATA_DIR).
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client

from articles.bench import exact, measure, peer
from articles.bench.corpus import build_corpus, default_corpora
from articles.ingest.loader import Loader, LoadOptions
from articles.models import Article, Entity
from articles.ranking import refresh_term_statistics, statistics_are_stale
from articles.search.backends import BACKENDS

FILTER = {"outlet": "bbc-news", "from": "2018-01-01", "to": "2021-12-31"}
FILTER_SECONDS = (1514764800, 1640995199)


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Measure search latency, load rate and sizes against the SQL floor and a BM25 peer."

    def add_arguments(self, parser):
        parser.add_argument("--articles", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--corpus", type=Path, help="Corpus directory (default: DATA/).")
        parser.add_argument(
            "--data",
            type=Path,
            help="Directory for the corpus, NER cache and peer index (default: bench/).",
        )
        parser.add_argument(
            "--backend",
            choices=list(BACKENDS),
            default=settings.SEARCH_BACKEND,
            help="Search backend for the run (default: settings.SEARCH_BACKEND).",
        )
        parser.add_argument(
            "--no-index-build",
            action="store_true",
            help="Do not time the (re)build of the backend's index; reuse it as it is.",
        )
        parser.add_argument("--json", type=Path, help="Also write the figures here.")
        parser.add_argument("--runs", type=int, default=30, help="Timed runs per query class.")
        parser.add_argument("--clients", type=int, default=8, help="Concurrent HTTP clients.")
        parser.add_argument("--no-peer", action="store_true", help="Skip the tantivy peer.")
        parser.add_argument("--no-http", action="store_true", help="Skip the gunicorn test.")
        parser.add_argument(
            "--enrich-sample", type=int, default=100, help="Articles for the full-NER load rate."
        )
        parser.add_argument("--ir", action="store_true", help="Ranking quality (nDCG, MAP) only.")

    def handle(self, *args, **options):
        # Measure the work itself: a repeated query would otherwise be answered from
        # the result cache (articles/cache.py) after its first run.
        settings.RESULT_CACHE_SECONDS = 0
        use_backend(options["backend"])
        if not options["no_peer"] and not peer.available():
            raise CommandError(peer.MISSING)
        if options["ir"]:
            figures = {"machine": machine(), "backend": options["backend"], "ir": self.ir(options)}
        else:
            figures = self.run(options)
        if options["json"]:
            options["json"].write_text(json.dumps(figures, indent=2, default=str) + "\n")
            self.stdout.write(f"Figures written to {options['json']}")

    # -- the whole benchmark ----------------------------------------------------------

    def run(self, options) -> dict:
        n, seed = options["articles"], options["seed"]
        root = options["data"] or Path(settings.BASE_DIR) / "bench"
        corpus_dir = options["corpus"] or root / f"corpus-{n}-s{seed}"
        self.say(f"Corpus {corpus_dir} ...")
        corpus = build_corpus(corpus_dir, n, seed=seed)
        jsonl_bytes = sum(p.stat().st_size for p in corpus_dir.glob("*.jsonl"))
        figures = {
            "machine": machine(),
            "backend": options["backend"],
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "corpus": {**corpus, "jsonl_bytes": jsonl_bytes},
        }
        figures["load"] = self.load(corpus_dir, root, n)
        figures["load"]["full_enrichment"] = self.enrichment_rate(
            options["enrich_sample"], seed, root
        )
        figures["index"] = self.index_build(
            options["backend"], rebuild=not options["no_index_build"]
        )
        figures["archive"] = {
            "articles": Article.objects.count(),
            "sections": Article.sections.rel.related_model.objects.count(),
            "entities": Entity.objects.count(),
        }
        figures["sizes"] = measure.database_sizes()
        terms = measure.pick_terms(peer.read_jsonl(corpus_dir))
        figures["terms"] = terms
        classes = query_classes(terms)
        self.say(f"Latency through /api/search/ ({options['backend']} backend) ...")
        figures["api"] = self.api_latency(classes, options["runs"])
        self.say("Against the exact answer (BM25 over every match, exact counts and facets) ...")
        figures["exact"] = self.exactness(classes)
        self.say("Floor (raw SQL match) ...")
        figures["floor"] = self.floor_latency(classes, options["runs"])
        if not options["no_peer"]:
            self.say("Peer (tantivy BM25) ...")
            figures["peer"] = self.peer_latency(
                corpus_dir, root / f"tantivy-{n}-s{seed}", classes, options["runs"]
            )
        if not options["no_http"]:
            self.say("Search page and home page over HTTP (gunicorn) ...")
            figures["http"] = self.http_throughput(
                classes, options["clients"], options["runs"], options["backend"]
            )
        figures["machine_after"] = {
            "speed_check_seconds": measure.speed_check(),
            "load_average": os.getloadavg(),
        }
        self.print_table(figures)
        return figures

    def say(self, text: str) -> None:
        self.stderr.write(text)

    # -- loading ----------------------------------------------------------------------

    def load(self, corpus_dir: Path, root: Path, n: int) -> dict:
        loaded = Article.objects.filter(source_url__contains="/bench/").count()
        if loaded >= 0.99 * n:  # a drawn duplicate (same outlet, title, body) loads once
            self.say(f"The archive already holds {loaded} corpus articles: not reloading.")
            if statistics_are_stale():  # a load killed before its end: rank as users would
                refresh_term_statistics()
            return {"reused": True}
        from articles.ingest.bulk import BulkLoader

        self.say("Loading with the bulk path ...")
        loader = BulkLoader(LoadOptions(), ner_cache=root / "ner-cache.sqlite")
        report = loader.load([corpus_dir])
        return {
            "reused": False,
            "bulk_articles": report.created,
            "bulk_seconds": report.elapsed,
            "bulk_rate": report.created / report.elapsed if report.elapsed else None,
            "failures": len(report.failures),
            **loader.timings,
        }

    def enrichment_rate(self, sample: int, seed: int, root: Path) -> dict:
        """The normal path (full NER, one transaction per article) on articles the archive
        does not have, rolled back afterwards."""
        if sample <= 0:
            return {}
        out = root / f"enrich-sample-{sample}-s{seed + 1000}"
        build_corpus(out, sample, seed=seed + 1000)
        self.say(f"Normal path with full NER on {sample} new articles ...")
        report = None
        try:
            with transaction.atomic():
                report = Loader(LoadOptions()).load([out])
                raise _Rollback
        except _Rollback:
            pass
        return {
            "articles": report.created,
            "seconds": report.elapsed,
            "rate": report.created / report.elapsed if report.elapsed else None,
        }

    # -- the backend's index --------------------------------------------------------

    def index_build(self, backend: str, *, rebuild: bool) -> dict:
        """Build time and size of the backend's index: tantivy's own directory, or the
        full-text GIN indexes of articles and sections (REINDEX)."""
        if backend == "tantivy":
            index_dir = _search_index_dir()
            seconds = None
            if rebuild or not index_dir.exists():
                self.say("Building the tantivy index (rebuild_search_index) ...")
                started = time.perf_counter()
                call_command("rebuild_search_index", verbosity=0)
                seconds = time.perf_counter() - started
            size = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
            return _build_figures(seconds, size)
        indexes = measure.full_text_indexes()
        seconds = None
        if rebuild:
            self.say(f"Rebuilding the full-text indexes ({', '.join(indexes)}) ...")
            started = time.perf_counter()
            with connection.cursor() as cursor:
                for name in indexes:
                    cursor.execute(f'REINDEX INDEX "{name}"')
            seconds = time.perf_counter() - started
        return {**_build_figures(seconds, measure.relation_bytes(indexes)), "indexes": indexes}

    def exactness(self, classes: dict[str, dict]) -> dict:
        results = {}
        for name, params in classes.items():
            results[name] = row = exact.agreement(params)
            share = row["top10_agreement"]
            self.say(
                f"  {name:28} top 10 {'-' if share is None else f'{share:.1f}':>4}  "
                f"count {'exact' if row['count_exact'] else 'OFF'}  "
                f"facets {'exact' if row['all_facets_exact'] else 'OFF'}"
            )
        return results

    # -- latency ----------------------------------------------------------------------

    def api_latency(self, classes: dict[str, dict], runs: int) -> dict:
        client = Client(SERVER_NAME="localhost")
        results = {}
        for name, params in classes.items():
            response = client.get("/api/search/", params)
            if response.status_code != 200:
                raise CommandError(f"{name}: /api/search/ answered {response.status_code}")
            count = response.json()["count"]
            figures = measure.timed(lambda p=params: client.get("/api/search/", p), runs)
            results[name] = {"count": count, **figures}
            self.say(f"  {name:28} {count:>8} matches  p50 {figures['p50_ms']:8.1f} ms")
        return results

    def floor_latency(self, classes: dict[str, dict], runs: int) -> dict:
        from articles.search_vectors import SEARCH_CONFIG

        results = {}
        for name, params in classes.items():
            q = params.get("q")
            if not q or "*" in q:
                continue
            sql = (
                "SELECT count(*) FROM articles_article a WHERE a.is_public "
                "AND a.search_vector @@ websearch_to_tsquery(%s::regconfig, %s)"
            )
            args = [SEARCH_CONFIG, q]
            if "outlet" in params:
                sql += (
                    " AND a.outlet_id = (SELECT id FROM articles_outlet WHERE slug = %s)"
                    " AND a.published_at BETWEEN %s AND %s"
                )
                args += [params["outlet"], params["from"], params["to"] + "T23:59:59Z"]

            def run(sql=sql, args=args):
                with connection.cursor() as cursor:
                    cursor.execute(sql, args)
                    return cursor.fetchone()[0]

            results[name] = {"count": run(), **measure.timed(run, runs)}
        return results

    def peer_latency(self, corpus_dir: Path, index_dir: Path, classes, runs: int) -> dict:
        meta_path = index_dir / "bench-meta.json"
        if meta_path.is_file():
            built = json.loads(meta_path.read_text())
        else:
            built = peer.build_index(peer.read_jsonl(corpus_dir), index_dir)
            meta_path.write_text(json.dumps(built))
        engine = peer.Peer(index_dir)
        results = {"index": built}
        for name, params in classes.items():
            q = params.get("q")
            if not q:
                continue
            filters = {}
            if "outlet" in params:
                filters = {
                    "outlet": params["outlet"],
                    "since": FILTER_SECONDS[0],
                    "until": FILTER_SECONDS[1],
                }
            count, _ = engine.search(q, 20, **filters)
            results[name] = {
                "count": count,
                **measure.timed(lambda q=q, f=filters: engine.search(q, 20, **f), runs),
            }
        return results

    def http_throughput(self, classes: dict[str, dict], clients: int, runs: int, backend) -> dict:
        """The search page (each class with a query) with `clients` at once, then the
        home page alone and with `clients` at once, against gunicorn."""
        with gunicorn_serving(backend) as base:
            return {
                **http_latency(base, search_page_paths(classes), clients, runs),
                "home": http_latency(base, ["/"], 1, runs),
                "home_concurrent": http_latency(base, ["/"], clients, runs),
            }

    # -- ranking quality --------------------------------------------------------------

    def ir(self, options) -> dict:
        """nDCG@10 and MAP@100 of the archive (the search filters and run_search, by
        relevance) and of the tantivy peer on each judged collection, loaded with
        `load_articles --bulk`. Two runs, both engines given the same text: each
        question as typed, and its content words OR-ed by hand (articles/bench/ir.py)."""
        from articles.bench import ir

        out = Path(settings.BASE_DIR) / "bench" / "ir"
        results = {}
        for name in ir.COLLECTIONS:
            collection = ir.read_collection(default_corpora() / "ir" / name, name)
            self.say(f"{name}: loading {len(collection.documents)} documents (--bulk) ...")
            load = ir.load(collection, out / name)
            if load["articles"] != load["documents"]:
                raise CommandError(
                    f"{name}: the archive holds {load['articles']} of the collection's "
                    f"{load['documents']} documents: is another collection using its outlet?"
                )
            figures = {"load": load}
            if settings.SEARCH_BACKEND == "tantivy":
                figures["index"] = self.index_build("tantivy", rebuild=True)
            for run in ir.RUNS:
                self.say(f"{name}: {len(collection.queries)} {run} queries through run_search ...")
                started = time.monotonic()
                rankings = ir.archive_rankings(collection, run=run)
                figures[f"archive {run}"] = {
                    **ir.evaluate(rankings, collection),
                    "ms_per_query": 1000 * (time.monotonic() - started) / len(rankings),
                }
                if not options["no_peer"]:
                    figures[f"tantivy {run}"] = ir.evaluate(
                        ir.peer_rankings(collection, out / name, out / f"tantivy-{name}", run=run),
                        collection,
                    )
            figures["random"] = {"ndcg@10": ir.random_ndcg(collection)}
            results[name] = figures
        self._print_ir(results)
        return results

    def _print_ir(self, results: dict) -> None:
        nan = {"ndcg@10": float("nan"), "map": float("nan"), "no_result": float("nan")}
        lines = [
            f"{'collection':10} {'run':6} {'docs':>5} {'queries':>7} {'load s':>7} "
            f"{'archive nDCG@10':>15} {'MAP@100':>7} {'none':>6} {'ms/q':>6} "
            f"{'tantivy nDCG@10':>15} {'MAP@100':>7} {'none':>6} {'random':>7}"
        ]
        for name, figures in results.items():
            load = figures["load"]
            for run in ("typed", "or"):
                archive, other = figures[f"archive {run}"], figures.get(f"tantivy {run}", nan)
                lines.append(
                    f"{name:10} {run:6} {load['documents']:>5} {archive['queries']:>7} "
                    f"{load['seconds']:>7.1f}{'*' if load['already_held'] else ' '}"
                    f"{archive['ndcg@10']:>15.3f} {archive['map']:>7.3f} "
                    f"{archive['no_result']:>6.1%} {archive['ms_per_query']:>6.0f} "
                    f"{other['ndcg@10']:>15.3f} {other['map']:>7.3f} {other['no_result']:>6.1%} "
                    f"{figures['random']['ndcg@10']:>7.3f}"
                )
        if any(figures["load"]["already_held"] for figures in results.values()):
            lines.append("* already in the archive: a reload (unchanged), not a first load")
        self.stdout.write("\n".join(lines))

    # -- report -----------------------------------------------------------------------

    def print_table(self, figures: dict) -> None:
        api, floor, other = figures["api"], figures.get("floor", {}), figures.get("peer", {})
        exactness = figures.get("exact", {})
        lines = [
            f"{'query class':30} {'matches':>8} {'api p50':>9} {'p95':>8} {'max':>8} "
            f"{'floor p50':>10} {'peer p50':>9} {'peer p95':>9} {'api/peer':>9} "
            f"{'top10':>6} {'count':>6} {'facets':>6}"
        ]
        for name, row in api.items():
            f = floor.get(name, {})
            p = other.get(name, {})
            e = exactness.get(name, {})
            ratio = row["p50_ms"] / p["p50_ms"] if p.get("p50_ms") else float("nan")
            top = e.get("top10_agreement")
            lines.append(
                f"{name:30} {row['count']:>8} {row['p50_ms']:9.1f} {row['p95_ms']:8.1f} "
                f"{row['max_ms']:8.1f} {f.get('p50_ms', float('nan')):10.1f} "
                f"{p.get('p50_ms', float('nan')):9.2f} {p.get('p95_ms', float('nan')):9.2f} "
                f"{ratio:9.0f} {'-' if top is None else f'{top:.1f}':>6} "
                f"{_yes(e.get('count_exact')):>6} {_yes(e.get('all_facets_exact')):>6}"
            )
        self.stdout.write("\n".join(lines))
        self.stdout.write(
            f"machine speed check: {figures['machine']['speed_check_seconds']} s at the start, "
            f"{figures['machine_after']['speed_check_seconds']} s at the end"
        )
        load = figures["load"]
        self.stdout.write(f"load: {json.dumps(load, default=str)}")
        self.stdout.write(f"index ({figures['backend']}): {json.dumps(figures['index'])}")
        self.stdout.write(
            f"sizes (MB): database {figures['sizes']['database'] / 1e6:.0f}, "
            f"corpus text {figures['corpus']['text_chars'] / 1e6:.0f}"
        )
        self.stdout.write(f"backend: {figures['backend']}")
        if "index" in figures:
            self.stdout.write(f"index: {json.dumps(figures['index'])}")
        if "http" in figures:
            self.stdout.write(f"http: {json.dumps(figures['http'])}")


def use_backend(name: str) -> None:
    """Search with backend `name` for this run."""
    if name not in BACKENDS:
        raise CommandError(f"No {name} search backend (backends: {', '.join(BACKENDS)}).")
    settings.SEARCH_BACKEND = name


def _search_index_dir() -> Path:
    return Path(settings.SEARCH_INDEX_DIR)


def _build_figures(seconds: float | None, size: int) -> dict:
    return {"build_seconds": seconds, "bytes": size}


def _yes(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "NO")


def query_classes(terms: dict) -> dict[str, dict]:
    rare, medium, medium2 = terms["rare"][0], terms["medium"][0], terms["medium2"][0]
    base = {
        "rare": {"q": rare},
        "medium": {"q": medium},
        "common (said)": {"q": "said"},
        "two terms": {"q": f"{medium} {medium2}"},
        "or": {"q": f"{rare} or {medium}"},
        "phrase": {"q": '"prime minister"'},
        "prefix": {"q": "negotiat*"},
        "alias (Kiev)": {"q": "Kiev"},
    }
    classes = {}
    filters = {**FILTER, "outlet": _filter_outlet()}
    for name, params in base.items():
        classes[name] = params
        classes[f"{name} + outlet/dates"] = {**params, **filters}
    kyiv = Entity.objects.filter(name="Kyiv").values_list("slug", flat=True).first() or "kyiv"
    classes["entity filter"] = {"entity": kyiv}
    classes["entity + word"] = {"q": medium, "entity": kyiv}
    return classes


def _filter_outlet() -> str:
    """BBC News, or on a tiny corpus without it, the outlet with most articles."""
    from django.db.models import Count

    from articles.models import Outlet

    if Outlet.objects.filter(slug=FILTER["outlet"]).exists():
        return FILTER["outlet"]
    busiest = Outlet.objects.annotate(n=Count("articles")).order_by("-n", "slug").first()
    return busiest.slug if busiest else FILTER["outlet"]


def machine() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(memory / 2**30, 1),
        "python": platform.python_version(),
        "postgresql": version,
        "load_average": os.getloadavg(),
        "speed_check_seconds": measure.speed_check(),
    }


def search_page_paths(classes: dict[str, dict]) -> list[str]:
    """The search page of each query class with a text (`query_classes`)."""
    return [
        "/search/?" + urllib.parse.urlencode(params, doseq=True)
        for params in classes.values()
        if params.get("q")
    ]


@contextmanager
def gunicorn_serving(backend: str):
    """gunicorn serving the archive on a free local port, as production starts it
    (collected static files, no result cache); yields its base URL."""
    call_command("collectstatic", interactive=False, verbosity=0)
    port = _free_port()
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "3",
        "RESULT_CACHE_SECONDS": "0",
        "SEARCH_BACKEND": backend,
        "SEARCH_INDEX_DIR": str(_search_index_dir()),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "archive.wsgi"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/healthz")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


# With 8 clients and gunicorn_serving's 3 workers, two rounds leave a worker without
# a given path about one time in 650 ((2/3)^16); one round, one time in 26.
WARM_UP_ROUNDS = 2


def http_latency(
    base: str, paths: list[str], clients: int, runs: int, *, warm: bool = False
) -> dict:
    """Each of `clients` threads asks for `runs` of `paths` in turn, after `warm_up`
    unless the server is `warm` already; milliseconds per request and requests per
    second."""
    if not warm:
        warm_up(base, paths, clients)
    samples, elapsed = _ask_concurrently(base, paths, clients, runs)
    return {
        "clients": clients,
        "requests": len(samples),
        "throughput_rps": len(samples) / elapsed,
        "p50_ms": measure.percentile(samples, 0.5),
        "p95_ms": measure.percentile(samples, 0.95),
        "max_ms": max(samples),
    }


def warm_up(base: str, paths: list[str], clients: int) -> None:
    """Every path asked for twice by each of `clients` threads at once, as the
    measurement asks: asked one at a time, the paths reach one or two of gunicorn's
    workers, and the others would do their first search of each kind (opening the
    index, counting a filter's facet totals) within the measurement
    (docs/benchmarks.md, thirty-second session)."""
    _ask_concurrently(base, paths, clients, WARM_UP_ROUNDS * len(paths))


def _ask_concurrently(
    base: str, paths: list[str], clients: int, runs: int
) -> tuple[list[float], float]:
    """(Milliseconds of each request, seconds in all) of `clients` threads each asking
    for `runs` of `paths` in turn, each starting at a different path."""
    samples: list[float] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        for i in range(runs):
            path = paths[(number + i) % len(paths)]
            started = time.perf_counter()
            urllib.request.urlopen(base + path, timeout=120).read()  # noqa: S310
            with lock:
                samples.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples, time.perf_counter() - started


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5).read()  # noqa: S310
            return
        except OSError:
            time.sleep(0.5)
    raise CommandError(f"gunicorn did not answer at {url}")
