"""The peer a user would pick instead: a tantivy (BM25) index of the same corpus.

Fields: title and body (English stemming), outlet slug (raw) and the publication
time (seconds, indexed and fast) for the outlet and date filters.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from datetime import datetime
from pathlib import Path

from django.utils.text import slugify

try:
    import tantivy
except ImportError:  # pragma: no cover - tantivy is a dependency; an old venv may lack it
    tantivy = None

MISSING = (
    "The BM25 peer needs the tantivy package (a dependency: make install). "
    "Run with --no-peer to skip it."
)


def available() -> bool:
    return tantivy is not None


def _schema():
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("title", stored=False, tokenizer_name="en_stem")
    builder.add_text_field("body", stored=False, tokenizer_name="en_stem")
    builder.add_text_field("outlet", stored=False, tokenizer_name="raw")
    builder.add_integer_field("published", indexed=True, fast=True, stored=False)
    builder.add_integer_field("key", indexed=False, fast=True, stored=True)
    return builder.build()


def build_index(records, directory: Path, key=None) -> dict:
    """Index the JSONL records (dicts with title, body, outlet, date, url). `key(record)`
    gives the stored integer returned by searches (default: the record's number)."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    started = time.monotonic()
    index = tantivy.Index(_schema(), path=str(directory))
    writer = index.writer(heap_size=512 * 1024 * 1024, num_threads=2)
    count = 0
    for number, record in enumerate(records):
        published = record.get("date") or "2000-01-01"
        writer.add_document(
            tantivy.Document(
                title=record.get("title", ""),
                body=record.get("body", ""),
                outlet=slugify(record.get("outlet", "")),
                published=int(datetime.fromisoformat(published).timestamp())
                if "T" in published
                else int(datetime.fromisoformat(published + "T00:00:00+00:00").timestamp()),
                key=key(record) if key else number,
            )
        )
        count += 1
    writer.commit()
    writer.wait_merging_threads()
    size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
    return {"documents": count, "seconds": time.monotonic() - started, "bytes": size}


def read_jsonl(directory: Path):
    for path in sorted(directory.glob("*.jsonl")):
        with path.open() as handle:
            for line in handle:
                yield json.loads(line)


class Peer:
    def __init__(self, directory: Path):
        self.index = tantivy.Index.open(str(directory))
        self.index.reload()
        self.searcher = self.index.searcher()

    def query_text(self, q: str, outlet: str = "", since: int | None = None, until=None) -> str:
        text = to_tantivy(q) if q != "*" else "*"
        parts = [f"({text})"] if text != "*" else []
        if outlet:
            parts.append(f'outlet:"{outlet}"')
        if since is not None:
            parts.append(f"published:[{since} TO {until}]")
        return " AND ".join(parts) or "*"

    def search(self, q: str, limit: int = 20, count: bool = True, **filters) -> tuple[int, list]:
        prefixes = re.findall(r"(?<![\w\"])(\w+)\*", q)
        rest = re.sub(r"(?<![\w\"])\w+\*", " ", q).strip()
        query = self.index.parse_query(
            self.query_text(rest or "*", **filters) if rest or filters else "*",
            ["title", "body"],
            field_boosts={"title": 2.0},
        )
        if prefixes:
            # tantivy's parser has no single-word prefix: a regex over the (stemmed) terms.
            schema = self.index.schema
            must = [(tantivy.Occur.Must, query)]
            for prefix in prefixes:
                pattern = re.escape(prefix.lower()) + ".*"
                either = tantivy.Query.boolean_query(
                    [
                        (tantivy.Occur.Should, tantivy.Query.regex_query(schema, f, pattern))
                        for f in ("title", "body")
                    ]
                )
                must.append((tantivy.Occur.Must, either))
            query = tantivy.Query.boolean_query(must)
        result = self.searcher.search(query, limit, count=count)
        keys = [self.searcher.doc(address)["key"][0] for _, address in result.hits]
        return result.count, keys

    def search_typed(self, text: str, limit: int = 20) -> list:
        """The keys of the best `limit` documents for `text` as a reader typed it, read
        by tantivy's own query parser (any word matches; what it cannot read is
        skipped), the way a plain BM25 engine takes a search box's text."""
        query, _errors = self.index.parse_query_lenient(
            text, ["title", "body"], field_boosts={"title": 2.0}
        )
        result = self.searcher.search(query, limit, count=False)
        return [self.searcher.doc(address)["key"][0] for _, address in result.hits]


def to_tantivy(q: str) -> str:
    """The archive's websearch syntax in tantivy's: phrases stay, `or` -> OR, other words
    are required (AND), `-word` -> NOT, `word*` -> a prefix (tantivy: phrase prefix)."""
    groups = [group.strip() for group in re.split(r"\s+or\s+", q.strip()) if group.strip()]
    rendered = []
    for group in groups:
        terms = []
        for match in re.finditer(r'(-?)(?:"([^"]*)"|(\S+))', group):
            negated, phrase, word = match.groups()
            if phrase is not None:
                term = f'"{phrase}"'
            elif word.endswith("*"):
                term = f'"{word.rstrip("*")}"*'
            else:
                term = re.sub(r"[^\w]", "", word)
                if not term:
                    continue
            terms.append(f"-{term}" if negated else f"+{term}")
        if terms:
            rendered.append("(" + " ".join(terms) + ")")
    return " OR ".join(rendered)
