"""The labelled "same story" pairs (tests/data/story_pairs.json) and their measure.

The file names corpus texts by reference and fingerprint (sha256 of the body),
never by copying them: `reuters:<file>:<newid>` and `bbc:<folder>/<file>` are read
from ../shared/corpora in place. A `derived:<how>:<seed>:<reference>` text is
made here, by code, from the text it references, the way aggregators make copies
(`derive`). Where the labels come from is in the file's "about" and in
docs/quality.md ("Stories").
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DERIVATIONS = ("headline", "trim", "reorder", "credits", "reword", "aggregator")


@dataclass(frozen=True)
class Text:
    title: str
    body: str


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    same: bool
    kind: str


@dataclass(frozen=True)
class Measure:
    pairs: int
    positives: int
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives if self.positives else 1.0


def fingerprint(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def read_pairs(path: Path) -> tuple[list[Pair], dict[str, str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    pairs = [Pair(p["a"], p["b"], p["same"], p["kind"]) for p in data["pairs"]]
    return pairs, data["fingerprints"]


class Corpora:
    """The texts the references name, read from `root` (../shared/corpora)."""

    def __init__(self, root: Path):
        self.root = root

    def text(self, reference: str) -> Text:
        source, _, rest = reference.partition(":")
        if source == "derived":
            how, seed, base = rest.split(":", 2)
            return derive(self.text(base), how, int(seed))
        if source == "reuters":
            name, newid = rest.split(":")
            return self._reuters(name)[newid]
        if source == "bbc":
            return read_bbc(self.root / "bbc" / rest)
        raise ValueError(f"unknown reference {reference!r}")

    @cache  # noqa: B019 (one Corpora per measurement)
    def _reuters(self, name: str) -> dict[str, Text]:
        records = json.loads((self.root / "reuters21578" / name).read_text(encoding="utf-8"))
        return {
            r["attrs"]["newid"]: Text(r.get("title") or "", r["body"])
            for r in records
            if r.get("body")
        }


def read_bbc(path: Path) -> Text:
    """A BBC corpus file: its first line is the headline."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    title, _, body = text.partition("\n")
    return Text(title.strip(), body.strip())


def measure(pairs: list[Pair], corpora: Corpora, same_story) -> tuple[Measure, list[Pair]]:
    """`same_story(text_a, text_b)` judged against the labels; also the pairs it got wrong."""
    tp = fp = fn = 0
    wrong = []
    for pair in pairs:
        said = same_story(corpora.text(pair.a), corpora.text(pair.b))
        if said and pair.same:
            tp += 1
        elif said:
            fp += 1
        elif pair.same:
            fn += 1
        if said != pair.same:
            wrong.append(pair)
    positives = sum(p.same for p in pairs)
    return Measure(len(pairs), positives, tp, fp, fn), wrong


# --- derived copies ----------------------------------------------------------------

_CREDITS = (
    "Photo: Reuters",
    "Source: wire services",
    "Additional reporting by staff",
    "Read more: related coverage on our site",
)
_OUTLETS = ("World News Daily", "The Conflict Monitor", "Global Desk", "NewsNow Aggregated")
# Word swaps of the kind a machine translation back into English makes.
_REWORDING = {
    "said": "stated",
    "says": "states",
    "also": "as well",
    "but": "however",
    "about": "approximately",
    "after": "following",
    "before": "prior to",
    "because": "since",
    "big": "large",
    "buy": "purchase",
    "start": "begin",
    "started": "began",
    "help": "assist",
    "show": "demonstrate",
    "shows": "demonstrates",
    "many": "numerous",
    "people": "persons",
    "government": "administration",
    "company": "firm",
    "told": "informed",
    "week": "seven days",
    "year": "twelve months",
    "years": "years time",
    "new": "novel",
    "percent": "per cent",
    "pct": "per cent",
    "expected": "anticipated",
    "made": "produced",
    "make": "produce",
    "get": "obtain",
    "very": "highly",
    "however": "nevertheless",
    "would": "will",
    "could": "might",
    "there": "here",
    "is": "remains",
}
_WORD = re.compile(r"[A-Za-z]+")


def paragraphs(body: str) -> list[str]:
    """BBC paragraphs are separated by blank lines, Reuters' by an indented line."""
    parts = re.split(r"\n\s*\n|\n {3,}", body)
    return [p.strip() for p in parts if p.strip()]


def derive(text: Text, how: str, seed: int) -> Text:
    """A copy of `text` made the way `how` says, the same for the same seed."""
    rng = random.Random(f"{how}:{seed}")
    parts = paragraphs(text.body)
    title = text.title
    if how in ("headline", "aggregator"):
        title = _rewrite_headline(title, rng)
    if how in ("trim", "aggregator"):
        parts = _trim(parts, rng)
    if how == "reorder":
        parts = _reorder(parts, rng)
    if how in ("reword", "aggregator"):
        parts = [_reword(part, rng, 0.6 if how == "reword" else 0.3) for part in parts]
    if how in ("credits", "aggregator"):
        parts = _with_credits(parts, rng)
    return Text(title, "\n\n".join(parts))


def _rewrite_headline(title: str, rng: random.Random) -> str:
    prefix = rng.choice(("BREAKING: ", "WATCH: ", "", "Update - "))
    return f"{prefix}{title.title()}" + rng.choice(("", " (report)", " | Latest"))


def _trim(parts: list[str], rng: random.Random) -> list[str]:
    if len(parts) < 3:
        return parts
    keep = max(2, round(len(parts) * rng.uniform(0.7, 0.9)))
    kept = parts[:keep]
    if len(kept) > 4:  # and one paragraph from the middle
        del kept[rng.randrange(1, len(kept) - 1)]
    return kept


def _reorder(parts: list[str], rng: random.Random) -> list[str]:
    if len(parts) < 3:
        return parts
    moved = list(parts)
    i, j = rng.sample(range(1, len(moved)), 2)
    moved[i], moved[j] = moved[j], moved[i]
    return moved


def _reword(part: str, rng: random.Random, share: float) -> str:
    def swap(match: re.Match) -> str:
        word = match.group(0)
        other = _REWORDING.get(word.lower())
        if other is None or rng.random() > share:
            return word
        return other.capitalize() if word[0].isupper() else other

    reworded = _WORD.sub(swap, part)
    # Articles dropped now and then, as translation engines do.
    return re.sub(r"\b(the|a) (?=\w)", lambda m: "" if rng.random() < 0.2 else m.group(0), reworded)


def _with_credits(parts: list[str], rng: random.Random) -> list[str]:
    outlet = rng.choice(_OUTLETS)
    return [
        f"By {outlet} staff",
        *parts,
        rng.choice(_CREDITS),
        f"This post appeared first on {outlet}.",
    ]


def detector_says_same(a: Text, b: Text) -> bool:
    """What a load decides for two texts: the LSH lookup offers one as a candidate for
    the other, and the measured resemblance confirms it (articles/stories.py)."""
    from articles import stories

    first, second = stories.fingerprint(a.body, a.title), stories.fingerprint(b.body, b.title)
    return stories.offered(first, second) and stories.same_story(first, second)


def by_kind(pairs: list[Pair], wrong: list[Pair]) -> dict[str, tuple[int, int]]:
    """kind -> (pairs, pairs judged wrong)."""
    table: dict[str, list[int]] = {}
    for pair in pairs:
        table.setdefault(pair.kind, [0, 0])[0] += 1
    for pair in wrong:
        table[pair.kind][1] += 1
    return {kind: (n, w) for kind, (n, w) in table.items()}
