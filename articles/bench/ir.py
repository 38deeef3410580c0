"""Ranking quality on judged test collections (Cranfield, CISI; Glasgow format).

The documents become JSON Lines (title, body, an outlet per collection, a URL
carrying the document number) and are loaded with the loader, so the archive
ranks what a user's load would give it. Queries are the collection's questions
reduced to their content words (the archive accepts at most 16 terms), run two
ways: as typed (all words must match, the archive's default) and OR-ed (any
word). The peer (tantivy BM25) gets the same OR-ed words. Metrics: nDCG@10 and
MAP over the top 100, binary relevance (any judged pair is relevant).
"""

from __future__ import annotations

import json
import math
import re
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

STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be been before being
    below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers how i if in into is it its itself just me
    more most my no nor not now of off on once only or other our out over own same she
    should so some such than that the their them then there these they this those through
    to too under until up very was we were what when where which while who whom why will
    with would you your yet been may might must shall upon within without whether
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
    documents = {}
    for record in _fields((directory / docs_file).read_text(errors="replace")):
        title = " ".join(record.get("T", "").split())
        body = " ".join(record.get("W", "").split())
        documents[int(record["I"])] = (title, body)
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
            relevant.setdefault(int(parts[0]), set()).add(int(parts[1]))
    queries = [(number, text) for number, text in queries if relevant.get(number)]
    return Collection(name, documents, queries, relevant)


def write_jsonl(collection: Collection, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{collection.name}.jsonl"
    with path.open("w") as handle:
        for number, (title, body) in sorted(collection.documents.items()):
            record = {
                "title": title or f"{collection.name} document {number}",
                "body": body or title or "(empty)",
                "outlet": OUTLET.format(name=collection.name),
                "date": "2000-01-01",
                "url": URL.format(name=collection.name, number=number),
            }
            handle.write(json.dumps(record) + "\n")
    return path


def content_words(text: str, limit: int = search.MAX_TERMS) -> list[str]:
    words = []
    for word in re.findall(r"[A-Za-z][A-Za-z0-9]+", text.lower()):
        if word not in STOPWORDS and word not in words and word != "or":
            words.append(word)
    return words[:limit]


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


def archive_ranking(collection_name: str, words: list[str], any_word: bool) -> list[int]:
    """The archive's top DEPTH for the words, through the search filters and run_search."""
    from articles.filters import SearchFilter
    from articles.models import Article, Outlet

    outlet = Outlet.objects.filter(name=OUTLET.format(name=collection_name)).first()
    q = " or ".join(words) if any_word else " ".join(words)
    filterset = SearchFilter({"q": q, "outlet": [outlet.slug]}, queryset=Article.objects.public())
    if not filterset.is_valid():
        return []
    results = search.run_search(
        filterset.qs,
        text_query=filterset.text_query,
        outlet_facet_base=filterset.filtered(skip={"outlet"}),
        selection=filterset.selection(),
        per_page=DEPTH,
    )
    return [int(hit.article.source_url.rsplit("/", 1)[1]) for hit in results.hits]


def evaluate(rankings: dict[int, list[int]], collection: Collection) -> dict[str, float]:
    ndcg = [ndcg_at(rankings.get(n, []), collection.relevant[n]) for n, _ in collection.queries]
    ap = [
        average_precision(rankings.get(n, []), collection.relevant[n])
        for n, _ in collection.queries
    ]
    return {
        "queries": len(collection.queries),
        "ndcg@10": sum(ndcg) / len(ndcg),
        "map@100": sum(ap) / len(ap),
    }
