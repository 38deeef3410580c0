"""How well topics tag: precision and recall on a labelled set of real articles.

The labelled set (`tests/data/topic_labels.json`, described in its README) names
each article by where it is in `../shared/corpora` or `../shared/seeds`, with a
fingerprint of its text, and lists the topics a reader gave it (and, for live
blogs, the topics of each entry). No corpus text is kept in the project: each
article is read from the corpora, parsed by the loader's own stages and saved by
its own save function (without named entities, which tagging does not use), so
the tags measured are those the loader makes.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings

from articles.ingest import formats, pipeline
from articles.ingest.records import ArticleRecord, Extracted
from articles.ingest.save import save_article
from articles.models import ArticleTopic, Section, SectionTopic
from articles.topics import tag_articles

LABELS = Path(settings.BASE_DIR) / "tests" / "data" / "topic_labels.json"
SHARED = Path(settings.BASE_DIR).parent / "shared"
_MAX_BYTES = 64 * 1024 * 1024
# The set in two halves by fingerprint, which nobody chose: the rule and the queries
# are calibrated on the first and reported on the second as well, so that a figure
# fitted to the articles it was tuned on shows as such.
HALVES = ("calibration", "held-out")


class CorpusChanged(Exception):
    """A labelled article is missing from the corpora or its text is not the one labelled."""


@dataclass(frozen=True)
class LabelledArticle:
    path: str  # relative to ../shared
    record: str  # the loader's record id within the file ("" for a one-record file)
    story: int  # which story of the record (compilations hold several)
    sha256: str  # first 16 hex digits of the sha256 of the record's extracted text
    topics: frozenset[str]
    sections: tuple[frozenset[str], ...] | None = None  # per entry, when labelled


@dataclass
class Score:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        tagged = self.true_positives + self.false_positives
        return self.true_positives / tagged if tagged else 1.0

    @property
    def recall(self) -> float:
        labelled = self.true_positives + self.false_negatives
        return self.true_positives / labelled if labelled else 1.0


def read_labels(path: Path = LABELS) -> list[LabelledArticle]:
    entries = json.loads(path.read_text(encoding="utf-8"))["articles"]
    return [
        LabelledArticle(
            path=entry["path"],
            record=entry["record"],
            story=entry["story"],
            sha256=entry["sha256"],
            topics=frozenset(entry["topics"]),
            sections=(
                tuple(frozenset(topics) for topics in entry["sections"])
                if "sections" in entry
                else None
            ),
        )
        for entry in entries
    ]


def half_of(item: LabelledArticle) -> str:
    """Which half of the set an article (with all its live-blog entries) is in."""
    return HALVES[int(item.sha256, 16) % 2]


def fingerprint(extracted: Extracted) -> str:
    return hashlib.sha256(extracted.text.encode("utf-8")).hexdigest()[:16]


def article_record(item: LabelledArticle) -> ArticleRecord:
    """The labelled article as the loader parses it from the corpus."""
    extracted = _records_of(item.path).get(item.record)
    if extracted is None:
        raise CorpusChanged(f"{item.path}#{item.record}: not in the corpus")
    if fingerprint(extracted) != item.sha256:
        raise CorpusChanged(f"{item.path}#{item.record}: its text is not the one labelled")
    stories = pipeline.parse_extracted(extracted)
    if item.story >= len(stories):
        raise CorpusChanged(f"{item.path}#{item.record}: has no story {item.story}")
    return stories[item.story]


@cache
def _records_of(relative: str) -> dict[str, Extracted]:
    path = SHARED / relative
    raw = path.read_bytes()
    fmt = formats.detect_format(path, raw[:4096])
    records = formats.extract_records(raw, fmt, str(path), None, max_bytes=_MAX_BYTES)
    return {
        _record_id(extracted.origin): extracted
        for extracted in records
        if isinstance(extracted, Extracted)
    }


def _record_id(origin: str) -> str:
    return origin.partition("#")[2]


def load(items: list[LabelledArticle]) -> list[int]:
    """Save each labelled article through the loader's save path; their ids, in order.
    Articles the archive already held are tagged again, by today's rule and topics."""
    ids = []
    for item in items:
        record = article_record(item)
        no_mentions = [[] for _ in record.sections]
        ids.append(save_article(record, no_mentions, source=None).article_id)
    tag_articles(set(ids))
    return ids


def measure(items: list[LabelledArticle], article_ids: list[int]) -> dict[str, Score]:
    """Per topic slug: the tags the archive holds against the labels, counting each
    article and each labelled live-blog entry once."""
    scores: dict[str, Score] = defaultdict(Score)
    article_tags = _tags(ArticleTopic.objects.filter(article_id__in=article_ids, excluded=False))
    for item, article_id in zip(items, article_ids, strict=True):
        _compare(scores, item.topics, article_tags[article_id], f"{item.path}#{item.record}")
        if item.sections is not None:
            _measure_sections(scores, item, article_id)
    return dict(scores)


def measure_half(items: list[LabelledArticle], article_ids: list[int], half: str):
    """`measure` on the articles of one half of the set."""
    pairs = [(i, a) for i, a in zip(items, article_ids, strict=True) if half_of(i) == half]
    return measure([item for item, _ in pairs], [article_id for _, article_id in pairs])


def _measure_sections(scores, item: LabelledArticle, article_id: int) -> None:
    positions = dict(Section.objects.filter(article_id=article_id).values_list("position", "pk"))
    tags = _tags(SectionTopic.objects.filter(section__article_id=article_id), owner="section")
    for position, labelled in enumerate(item.sections):  # positions count from 1
        where = f"{item.path}#{item.record} entry {position}"
        _compare(scores, labelled, tags[positions[position + 1]], where)


def _tags(queryset, owner: str = "article") -> dict[int, set[str]]:
    tags: dict[int, set[str]] = defaultdict(set)
    for owner_id, slug in queryset.values_list(f"{owner}_id", "topic__slug"):
        tags[owner_id].add(slug)
    return tags


def _compare(scores, labelled: frozenset[str], tagged: set[str], where: str) -> None:
    for slug in labelled | tagged:
        score = scores[slug]
        if slug in labelled and slug in tagged:
            score.true_positives += 1
        elif slug in tagged:
            score.false_positives += 1
            score.errors.append(f"tagged, not labelled: {where}")
        else:
            score.false_negatives += 1
            score.errors.append(f"labelled, not tagged: {where}")
