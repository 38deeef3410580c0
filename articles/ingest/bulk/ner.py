"""Named-entity recognition once per distinct text, cached.

spaCy's entity spans for one text (a title, or a section's heading and body) do
not depend on the other texts of the article, so they are cached, keyed by the
text's hash, the model and the alias table in force; the article-level rules run
on the cached spans (`enrich.finish_article`), exactly as `enrich.extract_mentions`
runs them. A persistent cache (`--ner-cache FILE`) makes a re-load, or a corpus
that repeats texts, nearly free of NER.
"""

from __future__ import annotations

import hashlib
import pickle
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from articles.ingest import checks, enrich
from articles.ingest.records import ArticleRecord


def cache_salt(aliases: dict[str, tuple[str, str]]) -> str:
    from articles.ingest.nlp import installed_model_package

    fingerprint = repr((installed_model_package(), checks.RULES_VERSION, sorted(aliases.items())))
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:16]


class NerCache:
    """text -> the Occurrences enrich finds in it (section 0). In memory, optionally
    backed by an SQLite file so later loads reuse it. The main process writes the
    file; each worker process reads it through its own connection."""

    def __init__(self, path: Path | None, aliases: dict[str, tuple[str, str]], salt: str = ""):
        self.salt = salt or cache_salt(aliases)
        self.memory: dict[str, list] = {}
        self.db = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=60)
            self.db.execute("CREATE TABLE IF NOT EXISTS ner (key TEXT PRIMARY KEY, value BLOB)")
        self.hits = self.misses = 0

    def key(self, text: str) -> str:
        return hashlib.sha1(f"{self.salt}\x1f{text}".encode()).hexdigest()  # noqa: S324

    def get_many(self, keys: Iterable[str]) -> None:
        """Load what the file has for these keys into memory."""
        if self.db is None:
            return
        wanted = [k for k in set(keys) if k not in self.memory]
        for start in range(0, len(wanted), 900):
            chunk = wanted[start : start + 900]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT key, value FROM ner WHERE key IN ({marks})", chunk)  # noqa: S608
            for key, value in rows:
                self.memory[key] = pickle.loads(value)  # noqa: S301 - our own file

    def store(self, pickled: dict[str, bytes]) -> None:
        """Write already pickled entries to the file (not to memory)."""
        if self.db is not None and pickled:
            self.db.executemany("INSERT OR REPLACE INTO ner VALUES (?, ?)", pickled.items())
            self.db.commit()

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


def recognise(texts: list[str], aliases) -> list[list]:
    """The Occurrences of each text, as `enrich.extract_mentions` finds them in a section."""
    nlp_texts = [
        (number, chunk) for number, text in enumerate(texts) for chunk in enrich.text_chunks(text)
    ]
    found: list[list] = [[] for _ in texts]
    docs = enrich.load_nlp().pipe((chunk for _, chunk in nlp_texts), batch_size=64)
    for (number, _), doc in zip(nlp_texts, docs, strict=True):
        for span in enrich.entity_spans(doc):
            occurrence = enrich.classify_span(span, 0, aliases)
            if occurrence is not None:
                found[number].append(occurrence)
    return found


def texts_of(record: ArticleRecord) -> list[str]:
    """The texts NER reads in a record: its title, then each section's."""
    return [record.title] + [enrich.section_text(s) for s in record.sections]
