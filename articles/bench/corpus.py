"""A deterministic benchmark corpus recombined from the real text in ../shared/corpora.

Every sentence of Reuters-21578, the BBC collection, the saved HTML pages, the WARC
captures and the seed articles is pooled, in source order. Each story's body is
recombined from that whole pool: a paragraph is a short run of neighbouring
sentences of one source (so it reads as news), often followed by a sentence of
another, and sometimes by a war sentence naming gazetteer entities in their
variant spellings (Kiev and Kyiv, Zelensky and Zelenskyy), so entity filters and
aliases are exercised. No two stories share a body, and a word that is rare in
the sources stays rare in the corpus.

Duplication is modelled the way it happens in a news archive, a few percent of
articles: wire copies (an agency story run by other outlets a little later, with
its headline rewritten, its end trimmed, a sentence dropped or a credit line
added) and updated versions (the same outlet, hours later, a paragraph added and
sometimes a new headline). `.copies.tsv` names each copy's original, so duplicate
detection can be scored on the corpus. One article in ten is a live blog of 3-8
stamped entries.

Every body being distinct, named-entity recognition of the load costs in
proportion to the corpus (docs/benchmarks.md gives the rate).

Output: JSON Lines shards (`corpus-00001.jsonl`, ...) that `load_articles` reads,
plus `.corpus.json` (the parameters) and `.copies.tsv` (hidden: the loader skips
them). Same N and seed, same bytes.
"""

from __future__ import annotations

import functools
import json
import random
import re
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from articles.ingest.formats import extract_records
from articles.ingest.gazetteer import entries, spellings
from articles.ingest.records import IngestError

SHARD_SIZE = 2000
LIVE_SHARE = 0.1
WIRE_COPY_SHARE = 0.03  # articles that are another outlet's copy of an agency story
UPDATE_SHARE = 0.01  # articles that are a later version of one the same outlet ran
RECENT_STORIES = 500  # copies are made of one of the stories published just before
FIRST_DAY = datetime(2014, 1, 1, tzinfo=UTC)
LAST_DAY = datetime(2026, 12, 31, tzinfo=UTC)
AGENCIES = ("Associated Press", "Reuters", "Agence France-Presse")
CORPUS_VERSION = 2  # sentence recombination with copies (1: bodies from a pool of 4,000)

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


CREDITS = (
    "This story was originally published by {agency}.",
    "This post appeared first on {agency}.",
    "Additional reporting by {agency}.",
    "Copyright {agency}. All rights reserved.",
)
HEADLINE_KICKERS = ("Ukraine war: ", "Analysis: ", "Explainer: ", "World news: ")

_WORDS = re.compile(r"\S+")
# A sentence ends at . ! or ? (and a closing quote), before a capital, a digit or an opening quote.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[\"“‘(A-Z0-9])|(?<=[.!?][\"”’])\s+(?=[\"“‘(A-Z0-9])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Gen|Col|Lt|Sgt|Capt|Maj|Rep|Sen|Gov|Prof|Rev|No|Inc|Co|Corp|Ltd|"
    r"Jan|Feb|Mar|Apr|Aug|Sept|Sep|Oct|Nov|Dec|vs)|\b[A-Z](?:\.[A-Z])*)\.$"
)


@dataclass
class Sources:
    passages: list[list[str]]  # each source paragraph as its sentences, in source order
    titles: list[str]
    war: list[str]  # injected sentences naming gazetteer entities

    @property
    def sentences(self) -> int:
        return sum(len(passage) for passage in self.passages)


@functools.cache
def read_sources(corpora: Path) -> Sources:
    """Sentences and headlines of every source in the shared corpora (read in place);
    read once per process, as extracting the pages costs seconds."""
    paragraphs: list[str] = []
    titles: list[str] = []
    for title, text in _source_documents(corpora):
        title = _one_line(title)
        if title:
            titles.append(title.title() if title.isupper() else title)
        paragraphs += _paragraphs(text)
    passages = []
    for paragraph in dict.fromkeys(paragraphs):
        sentences = [s for s in split_sentences(paragraph) if _usable(s)]
        if sentences:
            passages.append(sentences)
    titles = list(dict.fromkeys(t for t in titles if 3 <= len(t.split()) <= 16))
    return Sources(passages, titles, _war_sentences())


def _source_documents(corpora: Path):
    """(headline, text) of each source document, deterministic order."""
    for path in sorted((corpora / "reuters21578").glob("reut2-*.json")):
        for record in json.loads(path.read_text(encoding="utf-8", errors="replace")):
            body = (record.get("body") or "").replace("&lt;", "<").replace("&#3;", "")
            yield record.get("title") or "", re.sub(r"\n\s{2,}", "\n\n", body)
    for path in sorted((corpora / "bbc").glob("*/*.txt")):
        lines = path.read_bytes().decode("utf-8", errors="replace").split("\n")
        yield lines[0], "\n".join(lines[1:])
    pages = sorted((corpora / "html").glob("*/source.html")) + sorted(
        (corpora / "warc").glob("*.warc.gz")
    )
    for path in pages:
        for extracted in extract_records(path.read_bytes(), "auto", str(path)):
            if not isinstance(extracted, IngestError):
                yield extracted.title, extracted.text
    for path in sorted((corpora.parent / "seeds").glob("*.txt")):
        yield "", path.read_text(encoding="utf-8", errors="replace")


def split_sentences(paragraph: str) -> list[str]:
    """The paragraph's sentences; a break after an abbreviation ("Mr.", "U.S.") is undone."""
    sentences: list[str] = []
    for piece in _SENTENCE_BREAK.split(paragraph):
        if sentences and _ABBREVIATION.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def _one_line(text: str) -> str:
    return " ".join(text.replace("&lt;", "<").replace("&#3;", "").split())


def _paragraphs(text: str) -> list[str]:
    return [_one_line(p) for p in re.split(r"\n\s*\n", text) if p.strip()]


def _usable(sentence: str) -> bool:
    words = len(_WORDS.findall(sentence))
    letters = sum(c.isalpha() for c in sentence)
    return 5 <= words <= 70 and letters > 0.6 * len(sentence) and sentence[-1:] in ".!?\"'”’"


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


@dataclass
class Story:
    number: int
    outlet: int
    published: datetime
    title: str
    body: str
    versions: int = 1


class CorpusBuilder:
    """Articles in publication-number order; each is a new story, a live blog, a wire
    copy or an updated version of a recent story (`copy_of` names the original)."""

    def __init__(self, sources: Sources, seed: int = 1):
        self.rng = random.Random(seed)
        self.sources = sources
        self.recent: deque[Story] = deque(maxlen=RECENT_STORIES)
        self.recent_wire: deque[Story] = deque(maxlen=RECENT_STORIES)  # by news agencies

    # -- text ---------------------------------------------------------------------

    def _paragraph(self) -> str:
        rng, sources = self.rng, self.sources
        passage = rng.choice(sources.passages)
        start = rng.randrange(len(passage))
        sentences = passage[start : start + rng.randint(1, 3)]
        if rng.random() < 0.5:
            sentences.append(rng.choice(rng.choice(sources.passages)))
        if rng.random() < 0.3:
            sentences.insert(rng.randint(0, len(sentences)), rng.choice(sources.war))
        return " ".join(sentences)

    def _body(self, paragraphs: int) -> str:
        return "\n\n".join(self._paragraph() for _ in range(paragraphs))

    def _published(self) -> datetime:
        span = (LAST_DAY - FIRST_DAY).total_seconds()
        return FIRST_DAY + timedelta(seconds=int(self.rng.random() * span))

    # -- articles -----------------------------------------------------------------

    def article(self, number: int) -> dict:
        """The record of article `number`; a copy carries `copy_of`, its original's number."""
        rng = self.rng
        draw = rng.random()
        if self.recent and draw < WIRE_COPY_SHARE:
            return self._wire_copy(number, rng.choice(self.recent_wire or self.recent))
        if self.recent and draw < WIRE_COPY_SHARE + UPDATE_SHARE:
            return self._update(number, rng.choice(self.recent))
        outlet = rng.randrange(len(OUTLETS))
        published = self._published()
        title = rng.choice(self.sources.titles)
        if rng.random() < LIVE_SHARE:
            return self._record(
                number, outlet, published, f"Live updates: {title}", self._live_body(published)
            )
        story = Story(number, outlet, published, title, self._body(rng.randint(3, 8)))
        self.recent.append(story)
        if OUTLETS[outlet][0] in AGENCIES:
            self.recent_wire.append(story)
        return self._record(number, outlet, published, title, story.body)

    def _record(self, number: int, outlet: int, published: datetime, title: str, body: str) -> dict:
        name, domain = OUTLETS[outlet]
        return {
            "title": title,
            "outlet": name,
            "date": published.isoformat(),
            "url": f"https://www.{domain}/bench/{number:07d}",
            "byline": f"By {self.rng.choice(FIRST_NAMES)} {self.rng.choice(SURNAMES)}",
            "body": body,
        }

    def _wire_copy(self, number: int, story: Story) -> dict:
        """Another outlet runs the story minutes to a day later, lightly edited."""
        rng = self.rng
        outlet = rng.choice([i for i in range(len(OUTLETS)) if i != story.outlet])
        published = story.published + timedelta(minutes=rng.randint(5, 24 * 60))
        paragraphs = story.body.split("\n\n")
        if len(paragraphs) > 3 and rng.random() < 0.5:
            paragraphs = paragraphs[: -rng.randint(1, 2)]  # trimmed to fit
        if rng.random() < 0.4:
            paragraphs = [self._drop_a_sentence(p) for p in paragraphs]
        if rng.random() < 0.5:
            credit = rng.choice(CREDITS).format(agency=rng.choice(AGENCIES))
            paragraphs.append(credit)
        title = story.title
        if rng.random() < 0.3:
            title = rng.choice(HEADLINE_KICKERS) + title
        elif rng.random() < 0.3:
            title = rng.choice(self.sources.titles)  # rewritten by the desk
        record = self._record(number, outlet, published, title, "\n\n".join(paragraphs))
        return {**record, "copy_of": story.number, "copy_kind": "wire copy"}

    def _drop_a_sentence(self, paragraph: str) -> str:
        sentences = split_sentences(paragraph)
        if len(sentences) < 3 or self.rng.random() < 0.7:
            return paragraph
        del sentences[self.rng.randrange(len(sentences))]
        return " ".join(sentences)

    def _update(self, number: int, story: Story) -> dict:
        """The same outlet updates the story hours later: a paragraph more, maybe a new headline."""
        rng = self.rng
        story.versions += 1
        story.published += timedelta(minutes=rng.randint(30, 12 * 60))
        paragraphs = story.body.split("\n\n")
        paragraphs.insert(rng.randint(0, len(paragraphs)), self._paragraph())
        story.body = "\n\n".join(paragraphs)
        if rng.random() < 0.4:
            story.title = rng.choice(self.sources.titles)
        record = self._record(number, story.outlet, story.published, story.title, story.body)
        return {**record, "copy_of": story.number, "copy_kind": "update"}

    def _live_body(self, published: datetime) -> str:
        rng = self.rng
        clock = published.replace(hour=rng.randint(12, 23), minute=rng.randint(0, 59))
        parts = [self._paragraph()]
        for _ in range(rng.randint(3, 8)):
            headline = rng.choice(self.sources.titles).rstrip(".")
            parts += [clock.strftime("%H:%M GMT"), headline, self._body(rng.randint(1, 3))]
            clock -= timedelta(minutes=rng.randint(5, 40))
            if clock.date() != published.date():
                clock = published.replace(hour=23, minute=59)
        return "\n\n".join(parts)


def build_corpus(
    out: Path,
    articles: int,
    seed: int = 1,
    corpora: Path | None = None,
    shard_size: int = SHARD_SIZE,
) -> dict:
    """Write the corpus under `out` (JSONL shards, .corpus.json, .copies.tsv); returns its
    description. An existing corpus with the same parameters is reused as it is."""
    corpora = corpora or default_corpora()
    params = {
        "version": CORPUS_VERSION,
        "articles": articles,
        "seed": seed,
        "shard_size": shard_size,
    }
    # Hidden, so that loading the directory does not read them as inputs.
    meta_path, copies_path = out / ".corpus.json", out / ".copies.tsv"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if {k: meta.get(k) for k in params} == params:
            return meta
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("corpus-*.jsonl"):
        old.unlink()
    sources = read_sources(corpora)
    builder = CorpusBuilder(sources, seed=seed)
    counts = {"live_blogs": 0, "wire_copies": 0, "updates": 0, "text_chars": 0}
    shard = None
    with copies_path.open("w") as copies:
        copies.write("url\toriginal_url\tkind\n")
        urls: dict[int, str] = {}
        for number in range(articles):
            if number % shard_size == 0:
                if shard:
                    shard.close()
                shard = (out / f"corpus-{number // shard_size + 1:05d}.jsonl").open("w")
            record = builder.article(number)
            urls[number] = record["url"]
            original, kind = record.pop("copy_of", None), record.pop("copy_kind", None)
            if original is not None:
                counts["updates" if kind == "update" else "wire_copies"] += 1
                copies.write(f"{record['url']}\t{urls[original]}\t{kind}\n")
            counts["live_blogs"] += record["title"].startswith("Live updates: ")
            counts["text_chars"] += len(record["title"]) + len(record["body"])
            shard.write(json.dumps(record, ensure_ascii=False) + "\n")
    if shard:
        shard.close()
    meta = {
        **params,
        **counts,
        "source_sentences": sources.sentences,
        "source_passages": len(sources.passages),
        "source_titles": len(sources.titles),
        "war_sentences": len(sources.war),
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def read_copies(corpus_dir: Path) -> list[tuple[str, str, str]]:
    """(copy url, original url, "wire copy" or "update") of every copy in the corpus."""
    lines = (corpus_dir / ".copies.tsv").read_text().splitlines()[1:]
    return [tuple(line.split("\t")) for line in lines]


def default_corpora() -> Path:
    from django.conf import settings

    return Path(settings.BASE_DIR).parent / "shared" / "corpora"
