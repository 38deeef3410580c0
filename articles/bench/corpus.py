"""A deterministic benchmark corpus made from the real text in ../shared/corpora.

Paragraphs from Reuters-21578, the BBC collection, the saved HTML pages and the
seed articles are pooled; war sentences naming gazetteer entities (in all their
spellings: Kiev and Kyiv, Zelensky and Zelenskyy) are mixed in, so entity filters
and aliases are exercised. Articles are then drawn from that pool.

Why bodies come from a finite pool of recombined texts: named-entity recognition
runs at about 4,500 words/s on the benchmark machine, so recognising a million
distinct bodies would take days. Each body in the pool is a fresh combination of
paragraphs from different sources (the vocabulary stays that of real news), and
each article gets its own headline, outlet, date, byline and URL; the NER result
of a repeated text can then be cached (articles/ingest/bulk.py) without changing
any result. Live blogs (one in ten) pick 3-8 entries from a pool of entries, so
their combinations are distinct.

Output: JSON Lines shards (`corpus-00001.jsonl`, ...) that `load_articles` reads,
plus `.corpus.json` with the parameters (hidden: the loader skips it). Same N and seed, same bytes.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from articles.ingest.gazetteer import entries, spellings

SHARD_SIZE = 2000
LIVE_SHARE = 0.1
FIRST_DAY = datetime(2014, 1, 1, tzinfo=UTC)
LAST_DAY = datetime(2026, 12, 31, tzinfo=UTC)

OUTLETS = (
    ("The New York Times", "nytimes.com"),
    ("The Washington Post", "washingtonpost.com"),
    ("The Guardian", "theguardian.com"),
    ("CNN", "cnn.com"),
    ("Associated Press", "apnews.com"),
    ("Al Jazeera", "aljazeera.com"),
    ("Reuters", "reuters.com"),
    ("BBC News", "bbc.co.uk"),
    ("Bloomberg", "bloomberg.com"),
    ("Politico", "politico.com"),
    ("The Kyiv Independent", "kyivindependent.com"),
    ("Kyiv Post", "kyivpost.com"),
    ("Ukrainska Pravda", "pravda.com.ua"),
    ("Agence France-Presse", "afp.com"),
    ("The Wall Street Journal", "wsj.com"),
    ("Financial Times", "ft.com"),
    ("The Economist", "economist.com"),
    ("The Telegraph", "telegraph.co.uk"),
    ("The Independent", "independent.co.uk"),
    ("Sky News", "news.sky.com"),
    ("NPR", "npr.org"),
    ("NBC News", "nbcnews.com"),
    ("Deutsche Welle", "dw.com"),
    ("Euronews", "euronews.com"),
    ("France 24", "france24.com"),
    ("Radio Free Europe/Radio Liberty", "rferl.org"),
    ("The Moscow Times", "themoscowtimes.com"),
    ("Meduza", "meduza.io"),
    ("Le Monde", "lemonde.fr"),
    ("Der Spiegel", "spiegel.de"),
)

FIRST_NAMES = (
    "Anna", "James", "Olena", "Mark", "Sarah", "Andriy", "Maria", "David", "Iryna", "Thomas",
    "Laura", "Pavlo", "Helen", "Michael", "Natalia", "Peter", "Julia", "Daniel", "Oksana", "Chris",
)  # fmt: skip
SURNAMES = (
    "Harding", "Kramer", "Shevchenko", "Novak", "Walsh", "Bondarenko", "Fischer", "Reid",
    "Kovalenko", "Morgan", "Petrenko", "Lindqvist", "Marsh", "Tkachenko", "Dubois", "Hale",
    "Melnyk", "Okafor", "Sorensen", "Castillo",
)  # fmt: skip

# War sentences: {place}, {person}, {weapon}, {group}, {org} are filled from the gazetteer.
TEMPLATES = (
    "Air raid sirens sounded across {place} overnight, and officials said {weapon} units were moved closer to the front.",  # noqa: E501
    "{person} said on {day} that talks on {place} would continue despite the shelling.",
    "Officials in {place} said the {group} had been pushed back after days of fighting.",
    "{org} said it would send more {weapon} systems before the winter.",
    "Residents of {place} spent the night in shelters as drones struck the city's power grid.",
    "In a statement, {person} thanked allies for the {weapon} deliveries and urged {org} to move faster.",  # noqa: E501
    "The {group} claimed responsibility for the attack near {place}, according to {org}.",
    "{person} visited {place} on {day} and met soldiers who had been trained on the {weapon}.",
)
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_WORDS = re.compile(r"\S+")


@dataclass
class Pools:
    paragraphs: list[str]
    titles: list[str]
    war: list[str]  # injected sentences naming gazetteer entities


def source_pools(corpora: Path) -> Pools:
    """Paragraphs and headlines from the shared corpora (read in place), deterministic order."""
    paragraphs: list[str] = []
    titles: list[str] = []
    for path in sorted((corpora / "reuters21578").glob("reut2-*.json")):
        for record in json.loads(path.read_text(encoding="utf-8", errors="replace")):
            body, title = record.get("body") or "", record.get("title") or ""
            if title:
                titles.append(_one_line(title).title() if title.isupper() else _one_line(title))
            paragraphs += _reuters_paragraphs(body)
    for path in sorted((corpora / "bbc").glob("*/*.txt")):
        lines = path.read_bytes().decode("utf-8", errors="replace").split("\n")
        titles.append(_one_line(lines[0]))
        paragraphs += _paragraphs("\n".join(lines[1:]))
    seeds = corpora.parent / "seeds"
    for path in sorted(seeds.glob("*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        paragraphs += _paragraphs(text)
    paragraphs = list(dict.fromkeys(p for p in paragraphs if _usable(p)))
    titles = list(dict.fromkeys(t for t in titles if 3 <= len(t.split()) <= 16))
    return Pools(paragraphs, titles, _war_sentences())


def _one_line(text: str) -> str:
    return " ".join(text.replace("&lt;", "<").replace("&#3;", "").split())


def _paragraphs(text: str) -> list[str]:
    return [_one_line(p) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _reuters_paragraphs(body: str) -> list[str]:
    body = body.replace("&lt;", "<").replace("&#3;", "")
    return [_one_line(p) for p in re.split(r"\n\s{2,}|\n\s*\n", body) if p.strip()]


def _usable(paragraph: str) -> bool:
    words = len(_WORDS.findall(paragraph))
    letters = sum(c.isalpha() for c in paragraph)
    return 12 <= words <= 140 and letters > 0.6 * len(paragraph) and paragraph[-1:] in ".\"'”"


def _war_sentences() -> list[str]:
    by_kind: dict[str, list[str]] = {}
    for entry in entries():
        names = list(spellings(entry))
        by_kind.setdefault(entry.kind, []).extend(names)
    rng = random.Random(1914)
    sentences = []
    for number in range(4000):
        template = TEMPLATES[number % len(TEMPLATES)]
        sentences.append(
            template.format(
                place=rng.choice(by_kind["place"]),
                person=rng.choice(by_kind["person"]),
                weapon=rng.choice(by_kind["weapon"]),
                group=rng.choice(by_kind.get("group") or by_kind["organisation"]),
                org=rng.choice(by_kind["organisation"]),
                day=rng.choice(DAYS),
            )
        )
    return list(dict.fromkeys(sentences))


def default_pool_size(articles: int) -> int:
    """Distinct plain-article bodies: all of them for small corpora, then capped (NER cost)."""
    return max(1, min(articles, 4000))


class CorpusBuilder:
    def __init__(self, pools: Pools, seed: int = 1, pool_size: int = 4000):
        self.rng = random.Random(seed)
        self.pools = pools
        self.bodies = [self._body(self.rng.randint(3, 8)) for _ in range(pool_size)]
        self.entries = [self._entry() for _ in range(max(20, pool_size // 2))]

    def _paragraph(self) -> str:
        paragraph = self.rng.choice(self.pools.paragraphs)
        if self.rng.random() < 0.35:
            paragraph = f"{paragraph} {self.rng.choice(self.pools.war)}"
        return paragraph

    def _body(self, paragraphs: int) -> str:
        return "\n\n".join(self._paragraph() for _ in range(paragraphs))

    def _entry(self) -> tuple[str, str]:
        headline = self.rng.choice(self.pools.titles).rstrip(".")
        return headline, self._body(self.rng.randint(1, 3))

    def article(self, number: int) -> dict:
        rng = self.rng
        outlet, domain = OUTLETS[rng.randrange(len(OUTLETS))]
        span = (LAST_DAY - FIRST_DAY).total_seconds()
        published = FIRST_DAY + timedelta(seconds=int(rng.random() * span))
        title = rng.choice(self.pools.titles)
        byline = f"By {rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
        record = {
            "title": title,
            "outlet": outlet,
            "date": published.isoformat(),
            "url": f"https://www.{domain}/bench/{number:07d}",
            "byline": byline,
        }
        if rng.random() < LIVE_SHARE:
            record["title"] = f"Live updates: {title}"
            record["body"] = self._live_body(published)
        else:
            record["body"] = rng.choice(self.bodies)
        return record

    def _live_body(self, published: datetime) -> str:
        rng = self.rng
        count = rng.randint(3, 8)
        picked = rng.sample(self.entries, count)
        clock = published.replace(hour=rng.randint(12, 23), minute=rng.randint(0, 59))
        parts = [self._paragraph()]
        for headline, body in picked:
            parts += [clock.strftime("%H:%M GMT"), headline, body]
            clock -= timedelta(minutes=rng.randint(5, 40))
            if clock.date() != published.date():
                clock = published.replace(hour=23, minute=59)
        return "\n\n".join(parts)


def build_corpus(
    out: Path,
    articles: int,
    seed: int = 1,
    corpora: Path | None = None,
    pool_size: int | None = None,
    shard_size: int = SHARD_SIZE,
) -> dict:
    """Write the corpus under `out` (JSONL shards plus corpus.json); returns its description.
    An existing corpus with the same parameters is reused as it is."""
    corpora = corpora or default_corpora()
    pool_size = pool_size or default_pool_size(articles)
    params = {"articles": articles, "seed": seed, "pool_size": pool_size, "shard_size": shard_size}
    # Hidden, so that loading the directory does not read it as an input.
    meta_path = out / ".corpus.json"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if {k: meta.get(k) for k in params} == params:
            return meta
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("corpus-*.jsonl"):
        old.unlink()
    pools = source_pools(corpora)
    builder = CorpusBuilder(pools, seed=seed, pool_size=pool_size)
    raw_bytes = live = 0
    shard = None
    for number in range(articles):
        if number % shard_size == 0:
            if shard:
                shard.close()
            shard = (out / f"corpus-{number // shard_size + 1:05d}.jsonl").open("w")
        record = builder.article(number)
        live += record["title"].startswith("Live updates: ")
        line = json.dumps(record, ensure_ascii=False)
        raw_bytes += len(record["title"]) + len(record["body"])
        shard.write(line + "\n")
    if shard:
        shard.close()
    meta = {
        **params,
        "live_blogs": live,
        "text_chars": raw_bytes,
        "source_paragraphs": len(pools.paragraphs),
        "source_titles": len(pools.titles),
        "war_sentences": len(pools.war),
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def default_corpora() -> Path:
    from django.conf import settings

    return Path(settings.BASE_DIR).parent / "shared" / "corpora"
