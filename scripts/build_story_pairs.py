"""Build tests/data/story_pairs.json from ../shared/corpora (run once; the file is kept).

    .venv/bin/python scripts/build_story_pairs.py ../shared/corpora tests/data/story_pairs.json

Pairs of real texts are found the ways copies and look-alikes meet in the corpora:
- Reuters: the same wire slug and day (`BC-BAHIA-COCOA-REVIEW 02-26` in the record's
  `unknown` field: a story sent again), the same title on another day (recurring
  reports), a shared template (found by MinHash at a low threshold), the same company
  ticker on the same day;
- BBC: the same headline in two files, and articles sharing sentences.
Each real pair is labelled by its lede (first paragraph), never by the detector, which
reads whole bodies: the same story when the ledes say the same thing, their words
alike (difflib ratio >= 0.8) and their figures identical; a lede with other figures
(another week's shipments, another company's dividend) is another story. Derived
copies are the same story as the text they were made from. Where the lede rule is
unsure, the pair is left out: same slug and day but another lede (a flash and its
full story, or a rewrite), the same BBC headline over another lede (an update), and
template pairs whose ledes match (the lede of an earnings table is its figures), and
the same title on another day unless sent again word for word or with other figures
in the lede.
"""

from __future__ import annotations

import difflib
import itertools
import json
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

from datasketch import MinHash, MinHashLSH

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from articles.bench.story_pairs import DERIVATIONS, fingerprint, read_bbc  # noqa: E402

SEED = 17
_SLUG = re.compile(r"(BC-\S+)\s+(\d\d-\d\d)")
_TICKER = re.compile(r"&lt;([A-Z.]+)>")
_WORD = re.compile(r"\w+")


def lede_words(body: str) -> list[str]:
    first = re.split(r"\n\s*\n|\n {3,}", body.strip(), maxsplit=1)[0]
    return _WORD.findall(first.lower())[:60]


def same_lede(a: dict, b: dict) -> bool:
    """The label of a real pair: do the two ledes tell the same facts in nearly the same words?"""
    la, lb = lede_words(a["body"]), lede_words(b["body"])
    figures = [{w for w in words if any(c.isdigit() for c in w)} for words in (la, lb)]
    if figures[0] != figures[1]:
        return False
    return difflib.SequenceMatcher(None, la, lb, autojunk=False).ratio() >= 0.8


def labelled(a: dict, b: dict, same_kind: str | None, other_kind: str | None) -> tuple:
    # A template's lede ("Qtly div 10 cts vs 10 cts prior") can match word for word
    # for two companies: the ticker in the headline says whose it is.
    tickers = [set(_TICKER.findall(doc.get("title", ""))) for doc in (a, b)]
    same = same_lede(a, b) and not (tickers[0] and tickers[1] and not tickers[0] & tickers[1])
    return (a, b, same, same_kind if same else other_kind)


def resent_or_recurring(a: dict, b: dict) -> tuple:
    """The same title on another day: the same story when sent again word for word,
    another day's report when the lede's figures differ, else left out (a daily
    report's lede often has no figures: "The following rainfall was recorded")."""
    if _WORD.findall(a["body"].lower()) == _WORD.findall(b["body"].lower()):
        return (a, b, True, "reuters sent again another day")
    return labelled(a, b, None, "recurring report")


def shingles(text):
    w = _WORD.findall(text.lower())
    return {" ".join(w[i : i + 3]) for i in range(max(1, len(w) - 2))}


def reuters(root: Path) -> list[dict]:
    docs = []
    for path in sorted((root / "reuters21578").glob("reut2-*.json")):
        for record in json.loads(path.read_text(encoding="utf-8")):
            slug = _SLUG.search(record.get("unknown") or "")
            if record.get("body") and slug:
                docs.append(
                    {
                        "ref": f"reuters:{path.name}:{record['attrs']['newid']}",
                        "title": (record.get("title") or "").strip(),
                        "body": record["body"],
                        "slug": slug.groups(),
                        "date": record["date"][:11].strip(),
                    }
                )
    return docs


def bbc(root: Path) -> list[dict]:
    docs = []
    for path in sorted((root / "bbc").glob("*/*.txt")):
        text = read_bbc(path)
        ref = f"bbc:{path.parent.name}/{path.name}"
        docs.append({"ref": ref, "title": text.title, "body": text.body})
    return docs


def lookalikes(docs: list[dict], threshold: float) -> list[tuple[dict, dict, float]]:
    lsh = MinHashLSH(threshold=threshold, num_perm=64)
    sets, hashes = [], []
    for i, doc in enumerate(docs):
        s = shingles(doc["body"])
        m = MinHash(num_perm=64, seed=3)
        m.update_batch([x.encode() for x in s])
        lsh.insert(i, m)
        sets.append(s)
        hashes.append(m)
    found = []
    for i, m in enumerate(hashes):
        for j in lsh.query(m):
            if j > i:
                a, b = sets[i], sets[j]
                found.append((docs[i], docs[j], len(a & b) / min(len(a), len(b))))
    return found


def main(root: Path, out: Path) -> None:
    rng = random.Random(SEED)
    pairs = []
    r_docs, b_docs = reuters(root), bbc(root)

    groups = defaultdict(list)
    for doc in r_docs:
        if "CORRECTED" not in doc["slug"][0]:
            groups[doc["slug"]].append(doc)
    repeats = [ds[:2] for ds in groups.values() if len(ds) > 1]
    for a, b in rng.sample(repeats, 250):
        pairs.append(labelled(a, b, "reuters wire repeat", None))

    by_title = defaultdict(list)
    for doc in b_docs:
        by_title[doc["title"]].append(doc)
    for ds in by_title.values():
        if len(ds) > 1:
            pairs.append(labelled(ds[0], ds[1], "bbc filed twice", None))

    long_enough = [d for d in r_docs + b_docs if len(d["body"].split()) >= 120]
    for base in rng.sample(long_enough, 60):
        for how in DERIVATIONS:
            derived = {"ref": f"derived:{how}:{rng.randrange(10**6)}:{base['ref']}"}
            pairs.append((base, derived, True, f"derived {how}"))

    recurring = defaultdict(list)
    for doc in r_docs:
        recurring[doc["title"]].append(doc)
    same_title = [
        (a, b)
        for ds in recurring.values()
        for a, b in itertools.combinations(ds[:4], 2)
        if a["slug"][1] != b["slug"][1] and a["slug"][0][:12] != "BC-CORRECTED"
    ]
    for a, b in rng.sample(same_title, 120):
        pairs.append(resent_or_recurring(a, b))

    alike = [(a, b, c) for a, b, c in lookalikes(r_docs, 0.3) if a["slug"] != b["slug"]]
    templates = [(a, b) for a, b, c in alike if a["title"] != b["title"] and c >= 0.3]
    for a, b in rng.sample(templates, min(200, len(templates))):
        pairs.append(labelled(a, b, None, "same template, different facts"))

    by_day_ticker = defaultdict(list)
    for doc in r_docs:
        for ticker in set(_TICKER.findall(doc["title"])):
            by_day_ticker[(doc["date"], ticker)].append(doc)
    events = [
        (a, b)
        for ds in by_day_ticker.values()
        for a, b in itertools.combinations(ds[:3], 2)
        if a["slug"] != b["slug"]
    ]
    for a, b in rng.sample(events, min(120, len(events))):
        pairs.append(labelled(a, b, "reuters correction", "same company and day, other story"))

    bbc_alike = [(a, b) for a, b, c in lookalikes(b_docs, 0.2) if a["title"] != b["title"]]
    for a, b in bbc_alike:
        pairs.append(labelled(a, b, "bbc headline rewritten", "bbc same subject, other article"))

    pairs = [pair for pair in pairs if pair[3] is not None]  # the lede rule was unsure
    fingerprints = {}
    for a, b, _, _ in pairs:
        for doc in (a, b):
            if "body" in doc:
                fingerprints[doc["ref"]] = fingerprint(doc["body"])
    data = {
        "about": __doc__,
        "seed": SEED,
        "pairs": [{"a": a["ref"], "b": b["ref"], "same": s, "kind": k} for a, b, s, k in pairs],
        "fingerprints": dict(sorted(fingerprints.items())),
    }
    out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    counts = defaultdict(int)
    for *_, kind in pairs:
        counts[kind] += 1
    print(json.dumps(counts, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
