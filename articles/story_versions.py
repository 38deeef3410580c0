"""What one story's copies are, in publication order, and what changed from each
copy to the one before it: headline, and paragraphs added, removed or changed
(difflib over the stored text). Plain data; templates escape all of it."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from articles.models import Article

# Two paragraphs at the same place this alike (difflib ratio) are one paragraph
# changed; less alike, one was removed and another added.
CHANGED_AT = 0.5
MAX_COPIES = 200  # a story page lists at most this many copies

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_WORDS = re.compile(r"\S+|\s+")


@dataclass
class Change:
    kind: str  # "added", "removed" or "changed"
    before: str = ""
    after: str = ""
    # For a changed paragraph: (op, text) runs, op one of "same", "removed", "added".
    words: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Version:
    article: Article
    previous: Article | None
    headline_changed: bool = False
    changes: list[Change] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.previous is not None and not self.headline_changed and not self.changes

    def count(self, kind: str) -> int:
        return sum(change.kind == kind for change in self.changes)

    @property
    def summary(self) -> str:
        """What changed from the copy before, in words ("headline changed; 2 paragraphs added")."""
        if self.previous is None:
            return "First run"
        if self.identical:
            return "Same text"
        parts = ["headline changed"] if self.headline_changed else []
        for kind in ("added", "removed", "changed"):
            if n := self.count(kind):
                parts.append(f"{n} paragraph{'s' if n > 1 else ''} {kind}")
        return "; ".join(parts).capitalize()


def copies(story_id: int) -> list[Article]:
    """The story's public copies, who ran it first first (undated copies last)."""
    return list(
        Article.objects.public()
        .filter(story_id=story_id)
        .select_related("outlet")
        .defer("search_vector")
        .order_by("published_at", "id")[:MAX_COPIES]
    )


def versions(articles: list[Article]) -> list[Version]:
    """Each copy with what changed since the copy before it."""
    found = []
    previous = None
    for article in articles:
        version = Version(article, previous)
        if previous is not None:
            version.headline_changed = _normal(previous.title) != _normal(article.title)
            version.changes = paragraph_changes(previous.body, article.body)
        found.append(version)
        previous = article
    return found


def paragraphs(body: str) -> list[str]:
    return [part.strip() for part in _PARAGRAPH_BREAK.split(body) if part.strip()]


def paragraph_changes(before: str, after: str) -> list[Change]:
    old, new = paragraphs(before), paragraphs(after)
    matcher = difflib.SequenceMatcher(None, [_normal(p) for p in old], [_normal(p) for p in new])
    changes: list[Change] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        removed, added = old[i1:i2], new[j1:j2]
        if op == "replace":
            paired = min(len(removed), len(added))
            for was, now in zip(removed[:paired], added[:paired], strict=True):
                changes.extend(_replaced(was, now))
            removed, added = removed[paired:], added[paired:]
        changes += [Change("removed", before=p) for p in removed]
        changes += [Change("added", after=p) for p in added]
    return changes


def _replaced(was: str, now: str) -> list[Change]:
    ratio = difflib.SequenceMatcher(None, was, now, autojunk=False).quick_ratio()
    if ratio < CHANGED_AT:
        return [Change("removed", before=was), Change("added", after=now)]
    return [Change("changed", before=was, after=now, words=word_changes(was, now))]


def word_changes(was: str, now: str) -> list[tuple[str, str]]:
    old, new = _WORDS.findall(was), _WORDS.findall(now)
    runs = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            runs.append(("same", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            runs.append(("removed", "".join(old[i1:i2])))
        if j2 > j1:
            runs.append(("added", "".join(new[j1:j2])))
    return runs


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()
