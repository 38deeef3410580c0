"""Ranking quality on judged test collections (Cranfield, CISI; Glasgow format).

The documents become JSON Lines (title, body, an outlet per collection, a URL
carrying the document number) and are loaded with the loader, so the archive
ranks what a user's load would give it. Metrics: nDCG@10 and MAP over the top
DEPTH, binary relevance (any judged pair is relevant; Cranfield's -1 grade,
"of no interest", is not).

Two runs, each giving both engines the same text:
- typed: each question exactly as the collection writes it ("what similarity laws
  must be obeyed when constructing aeroelastic models of heated high speed
  aircraft ."), as a reader would type it. The archive's query layer handles it
  (stop words dropped, the rarest 16 words kept, relaxed matching when no article
  has every word: articles/search/relaxed.py); the tantivy peer parses it with its
  own query parser, any word matching (`peer.Peer.search_typed`).
- OR-ed by hand: the question's content words (stop words dropped, each word
  once, in order, at most the archive's 16 terms) joined with ` or `, "laws or
  obeyed or ...", which is the ranking's task with the query handling taken out;
  the peer gets the same words OR-ed through `peer.to_tantivy` (title boost 2).
The archive gets the text as `q` through the search filters and `run_search` (the
code behind /search/ and /api/search/).
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

from articles import search

COLLECTIONS = {
    "cran": ("cran.all.1400", "cran.qry", "cranqrel"),
    "cisi": ("CISI.ALL", "CISI.QRY", "CISI.REL"),
}
URL = "https://ir.invalid/{name}/{number}"
OUTLET = "IR {name}"
DEPTH = 100
# The hand-OR-ed run's limit on its string (the typed run sends the whole question).
QUERY_CHARS = 300
RUNS = ("typed", "or")

# PostgreSQL's English stop list (the archive's text configuration ignores these, so
# they would only use up the 16 terms) plus a few more question words.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing don down during each
    few for from further had has have having he her here hers herself him himself his how i
    if in into is it its itself just may me might more most must my myself no nor not now of
    off on once only or other our ours ourselves out over own same shall she should so some
    such than that the their theirs them themselves then there these they this those through
    to too under until up upon very was we were what when where whether which while who whom
    why will with within without would yet you your yours yourself yourselves
    """.split()  # noqa: SIM905 - a word list reads better as text
)


@dataclass
class Collection:
    name: str
    documents: dict[int, tuple[str, str]]  # number -> (title, body)
    queries: list[tuple[int, str]]  # (qrel number, text)
    relevant: dict[int, set[int]]


def _fields(text: str) -> list[dict[str, str]]:
    records, current, field = [], None, None
    for line in text.splitlines():
        match = re.match(r"^\.([A-Z])(?:\s+(\d+))?\s*$", line)
        if match:
            if match.group(1) == "I":
                current = {"I": match.group(2)}
                records.append(current)
                field = None
            else:
                field = match.group(1)
                current.setdefault(field, "")
            continue
        if current is not None and field:
            current[field] += line + "\n"
    return records


def read_collection(directory: Path, name: str) -> Collection:
    docs_file, queries_file, rel_file = COLLECTIONS[name]
    documents: dict[int, tuple[str, str]] = {}
    first_of: dict[tuple[str, str], int] = {}
    same_as: dict[int, int] = {}
    for record in _fields((directory / docs_file).read_text(errors="replace")):
        number = int(record["I"])
        title = " ".join(record.get("T", "").split()) or f"{name} document {number}"
        body = " ".join(record.get("W", "").split()) or title
        # CISI holds two documents twice (1440 = 234, 1447 = 1084). The loader keeps
        # one article per text, so both engines get the first copy, and a judgement
        # on the second counts for the first.
        if (title, body) in first_of:
            same_as[number] = first_of[title, body]
            continue
        first_of[title, body] = number
        documents[number] = (title, body)
    queries = []
    for position, record in enumerate(_fields((directory / queries_file).read_text()), start=1):
        text = " ".join(record.get("W", "").split())
        # cranqrel numbers queries 1..225 in file order, whatever their .I says.
        queries.append((position if name == "cran" else int(record["I"]), text))
    relevant: dict[int, set[int]] = {}
    for line in (directory / rel_file).read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2:
            grade = int(float(parts[2])) if name == "cran" and len(parts) > 2 else 1
            if name == "cran" and grade == -1:
                continue
            document = same_as.get(int(parts[1]), int(parts[1]))
            relevant.setdefault(int(parts[0]), set()).add(document)
    queries = [(number, text) for number, text in queries if relevant.get(number)]
    return Collection(name, documents, queries, relevant)


def outlet_name(collection: Collection) -> str:
    return OUTLET.format(name=collection.name)


def write_jsonl(collection: Collection, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{collection.name}.jsonl"
    with path.open("w") as handle:
        for number, (title, body) in sorted(collection.documents.items()):
            record = {
                "title": title,
                "body": body,
                "outlet": outlet_name(collection),
                "date": "2000-01-01",
                "url": URL.format(name=collection.name, number=number),
            }
            handle.write(json.dumps(record) + "\n")
    return path


def load(collection: Collection, out: Path) -> dict:
    """The collection through `load_articles --bulk`, as a user would load it."""
    from django.core.management import call_command
    from django.db import connection

    from articles.models import Article

    path = write_jsonl(collection, out)
    held = Article.objects.filter(outlet__name=outlet_name(collection))
    before = held.count()
    started = time.monotonic()
    call_command("load_articles", str(path), "--bulk", verbosity=0)
    # As autovacuum does after a load in production: a test loads inside one
    # transaction, which it never sees, and the planner would guess the tables' sizes
    # from whatever other tests left.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE articles_article, articles_section")
    return {
        "documents": len(collection.documents),
        "articles": held.count(),
        "seconds": time.monotonic() - started,
        "already_held": before == len(collection.documents),  # a reload, not a first load
    }


def content_words(text: str, limit: int = search.MAX_TERMS) -> list[str]:
    """The question's content words, in order, each once, as many as the archive takes."""
    words: list[str] = []
    for word in re.findall(r"[A-Za-z][A-Za-z0-9]+", text.lower()):
        if word in STOPWORDS or word in words:
            continue
        if len(query_text([*words, word])) > QUERY_CHARS:
            break
        words.append(word)
        if len(words) == limit:
            break
    return words


def query_text(words: list[str]) -> str:
    """The hand-OR-ed run's text: any of the words ("laws or obeyed or models")."""
    return " or ".join(words)


def run_text(question: str, run: str) -> str:
    """What both engines are given for `question` in `run` ("typed" or "or")."""
    if run == "typed":
        return " ".join(question.split())
    return query_text(content_words(question))


def ndcg_at(ranked: list[int], relevant: set[int], k: int = 10) -> float:
    gains = sum(1 / math.log2(i + 2) for i, doc in enumerate(ranked[:k]) if doc in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return gains / ideal if ideal else 0.0


def average_precision(ranked: list[int], relevant: set[int]) -> float:
    hits, total = 0, 0.0
    for i, doc in enumerate(ranked, start=1):
        if doc in relevant:
            hits += 1
            total += hits / i
    return total / len(relevant) if relevant else 0.0


def random_ndcg(collection: Collection, numbers: list[int] | None = None, k: int = 10) -> float:
    """Mean nDCG@k of a ranking drawn at random from the whole collection (its
    expectation: each of the top k is relevant with probability R/N)."""
    numbers = numbers if numbers is not None else [n for n, _ in collection.queries]
    size = len(collection.documents)
    discount = sum(1 / math.log2(i + 2) for i in range(k))
    total = 0.0
    for number in numbers:
        relevant = collection.relevant[number]
        ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
        total += len(relevant) / size * discount / ideal
    return total / len(numbers)


def archive_ranking(
    collection_name: str, q: str, depth: int = DEPTH, sort: str = "relevance"
) -> list[int]:
    """The archive's first `depth` results for `q` in the collection's outlet, through the
    search filters and run_search exactly as SearchFilter.results() runs them (one page
    of `depth` results instead of 20; no result cache)."""
    from articles.filters import SearchFilter, error_messages
    from articles.models import Article, Outlet

    outlet = Outlet.objects.get(name=OUTLET.format(name=collection_name))
    filterset = SearchFilter(
        {"q": q, "outlet": [outlet.slug], "sort": sort}, queryset=Article.objects.public()
    )
    if not filterset.is_valid():
        raise ValueError(f"{q!r}: {error_messages(filterset)}")
    results = filterset.run_search(per_page=depth)
    return [int(hit.article.source_url.rsplit("/", 1)[1]) for hit in results.hits]


def archive_rankings(
    collection: Collection,
    numbers: list[int] | None = None,
    depth: int = DEPTH,
    sort: str = "relevance",
    run: str = "or",
) -> dict[int, list[int]]:
    wanted = set(numbers) if numbers is not None else None
    return {
        number: archive_ranking(collection.name, run_text(text, run), depth, sort)
        for number, text in collection.queries
        if wanted is None or number in wanted
    }


def peer_rankings(
    collection: Collection,
    jsonl_dir: Path,
    index_dir: Path,
    numbers: list[int] | None = None,
    depth: int = DEPTH,
    run: str = "or",
) -> dict[int, list[int]]:
    """The tantivy BM25 peer over the same JSONL, given the same query strings."""
    from articles.bench import peer

    peer.build_index(
        peer.read_jsonl(jsonl_dir),
        index_dir,
        key=lambda record: int(record["url"].rsplit("/", 1)[1]),
    )
    engine = peer.Peer(index_dir)
    wanted = set(numbers) if numbers is not None else None
    return {
        number: (
            engine.search_typed(run_text(text, run), depth)
            if run == "typed"
            else engine.search(run_text(text, run), depth, count=False)[1]
        )
        for number, text in collection.queries
        if wanted is None or number in wanted
    }


def evaluate(rankings: dict[int, list[int]], collection: Collection) -> dict[str, float]:
    """Mean nDCG@10 and MAP over the queries in `rankings`."""
    numbers = sorted(rankings)
    ndcg = [ndcg_at(rankings[n], collection.relevant[n]) for n in numbers]
    ap = [average_precision(rankings[n], collection.relevant[n]) for n in numbers]
    return {
        "queries": len(numbers),
        "ndcg@10": sum(ndcg) / len(ndcg),
        "map": sum(ap) / len(ap),
        "no_result": sum(1 for n in numbers if not rankings[n]) / len(numbers),
    }
