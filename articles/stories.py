"""Stories: the copies of one text that outlets ran (wire copies, aggregators'
copies, updated versions), found when articles are loaded.

An article's body is cut into word shingles (runs of SHINGLE_WORDS words). Its
MinHash signature (datasketch) is cut into BANDS bands of ROWS values; each band
is hashed to one integer and kept as a `StoryBand` row (article, band key), so a
batch of new articles finds its candidates among the whole archive with one indexed
SQL lookup (the articles holding at least MIN_SHARED_BANDS of an article's keys),
nothing held in memory between loads. A large import into a small archive, which
drops the table's indexes until its end, looks them up in memory instead
(`BandIndex`). A candidate is a copy when the measured resemblance of the two
bodies reaches SAME_STORY and their figures agree (`same_story`: both bodies'
`fingerprints`, made from their text for the few articles that have candidates),
calibrated on the labelled pairs of tests/data/story_pairs.json
(docs/quality.md, "Stories"). The new article joins the story of its most
resembling copy, or starts a story of its own.

Existing articles never move: a curator's split or merge in admin stands, and a
later copy joins whichever story its closest copy is in now.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy
from datasketch import MinHash
from django.db import connection, transaction

SHINGLE_WORDS = 3
# 48 bands of 3 values, and a candidate shares at least 2 of them: two bodies whose
# shingle sets resemble at 0.5 (Jaccard; a trimmed copy) are offered with probability
# 0.99, at 0.4 with 0.82, at 0.3 with 0.37, at 0.1 with 0.001. One shared band would
# offer them at 0.3 with 0.73 but also at 0.1 with 0.05: in an archive of articles
# that share sentences, nearly every new article had a candidate that was not a
# copy, read and shingled again for nothing (docs/benchmarks.md). 42 bands gave a
# recall of 0.950 on average over six MinHash seeds, too near the target.
BANDS, ROWS = 48, 3
MIN_SHARED_BANDS = 2
# At most this many candidates (those sharing the most bands) are read per article:
# each is read and shingled again to be confirmed.
MAX_CANDIDATES = 8
# A body shorter than this many words is shingled with its headline: a two-line
# dividend notice is the same template as a thousand others, and only the
# headline says whose dividend it is.
MIN_WORDS = 25
SAME_STORY = 0.6
# MinHash is seeded: a signature computed today must match one stored last year.
_SEED = 1
# datasketch's permutations, drawn once; a body's values are computed from them by
# `minhash_values`. The scheme is named: were datasketch's default to change, every
# stored key would stop matching.
_PERMUTATIONS = MinHash(num_perm=BANDS * ROWS, seed=_SEED, scheme="affine32")
_A, _B = (numpy.asarray(p, dtype=numpy.uint32)[:, None] for p in _PERMUTATIONS.permutations)
# Bodies are signed a group of about this many shingles at a time: the matrix of one
# value per permutation and shingle (2.4 MB) then stays in the processor's cache.
_MINHASH_SHINGLES = 1 << 12
# Odd 64-bit multipliers (SplitMix64's and the golden ratio's), one per word of a
# shingle or row of a band and the last for a band's number: "a b c" and "c b a", or
# the same values in two bands, hash apart.
_WEIGHTS = numpy.array(
    [0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93],
    dtype=numpy.uint64,
)

_WORD = re.compile(r"\w+")
_DIGIT = re.compile(r"\d")
# Lines aggregators add around a copy (credits, "This post appeared first on ...").
_ADDED_LINE = re.compile(
    r"^\s*(?:this (?:post|article|story) (?:appeared|was published) first|"
    r"(?:originally )?(?:published|appeared) (?:first )?(?:on|in|by)\b|"
    r"(?:photo|image|source|credit|read more|via)\s*[:|])",
    re.IGNORECASE,
)


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """What confirming a candidate needs of one body: its shingles (each hashed to 32
    bits, a sorted array) and its figures; and its band keys (`offered`)."""

    shingles: numpy.ndarray
    figures: frozenset[str]
    bands: tuple[int, ...]


def words(text: str) -> list[str]:
    return _WORD.findall(_comparable_text(text))


def _comparable_text(text: str) -> str:
    """The text lower-cased, without the lines aggregators add."""
    return "\n".join(line for line in text.splitlines() if not _ADDED_LINE.match(line)).lower()


def fingerprint(body: str, title: str = "", *, banded: bool = True) -> Fingerprint:
    """One body's (`fingerprints`)."""
    return fingerprints([(body, title)], banded=banded)[0]


def fingerprints(texts: Sequence[tuple[str, str]], *, banded: bool = True) -> list[Fingerprint]:
    """Shingles, figures and (unless `banded` is off: candidates only being confirmed)
    the band keys of each (body, title). The array work is done once for them all: a
    body alone spent most of its time in numpy's per-call overhead."""
    if not texts:
        return []
    found = [words(body) for body, _ in texts]
    shingles, bounds = _shingles(list(map(_to_shingle, found, (title for _, title in texts))))
    keys = _band_keys_by_body(shingles, bounds) if banded else {}
    return [
        Fingerprint(shingles[bounds[n] : bounds[n + 1]], _figures(found[n]), keys.get(n, ()))
        for n in range(len(texts))
    ]


def signatures(texts: Sequence[tuple[str, str]]) -> list[tuple[int, ...]]:
    """The band keys alone of each (body, title): what finding an article's candidates
    needs. Its shingles and figures are made again only for an article that has some
    (`place`): a few in a hundred."""
    if not texts:
        return []
    shingles, bounds = _shingles([_to_shingle(words(body), title) for body, title in texts])
    keys = _band_keys_by_body(shingles, bounds)
    return [keys.get(n, ()) for n in range(len(texts))]


def _sign(texts: Mapping[int, tuple[str, str]]) -> dict[int, tuple[int, ...]]:
    """{article id: its band keys} of {article id: (body, title)}."""
    return dict(zip(texts, signatures(list(texts.values())), strict=True))


def _confirming(texts: Mapping[int, tuple[str, str]]) -> dict[int, Fingerprint]:
    """{article id: what confirming a candidate needs} of {article id: (body, title)}."""
    return dict(zip(texts, fingerprints(list(texts.values()), banded=False), strict=True))


def _band_keys_by_body(shingles: numpy.ndarray, bounds: numpy.ndarray) -> dict[int, tuple]:
    """{body's place: its band keys} for the bodies with shingles."""
    held = numpy.flatnonzero(bounds[1:] > bounds[:-1])
    return dict(zip(held.tolist(), band_keys(minhash_values(shingles, bounds[held])), strict=True))


def _to_shingle(body_words: list[str], title: str) -> list[str]:
    """The words to shingle of a body (with its headline's when it is short), none when
    too few."""
    if len(body_words) < MIN_WORDS:
        body_words = words(title) + body_words
    return body_words if len(body_words) >= SHINGLE_WORDS else []


def _figures(body_words: list[str]) -> frozenset[str]:
    return frozenset(word for word in body_words if not word.isalpha() and _DIGIT.search(word))


def _shingles(found: Sequence[list[str]]) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The distinct runs of SHINGLE_WORDS words of each body, each hashed to 32 bits (the
    CRC-32 of each word, weighted by its place in the run and mixed), sorted, one body
    after the other; and where each body's start (and the last one's end)."""
    lengths = numpy.fromiter(map(len, found), dtype=numpy.int64, count=len(found))
    hashed = numpy.fromiter(
        map(zlib.crc32, map(str.encode, chain.from_iterable(found))),
        dtype=numpy.uint64,
        count=int(lengths.sum()),
    )
    runs = max(hashed.size - SHINGLE_WORDS + 1, 0)
    mixed = numpy.zeros(runs, dtype=numpy.uint64)
    for place, weight in enumerate(_WEIGHTS[:SHINGLE_WORDS]):
        mixed += hashed[place : place + runs] * weight
    # The runs over two bodies' words are dropped: a run is kept when it ends in the
    # body it starts in.
    body_ends = numpy.repeat(numpy.cumsum(lengths), lengths)[:runs]
    whole = numpy.arange(SHINGLE_WORDS, runs + SHINGLE_WORDS) <= body_ends
    owners = numpy.repeat(numpy.arange(len(found), dtype=numpy.uint64), lengths)[:runs][whole]
    # Each value under its body's number: one sort orders every body's shingles.
    keyed = _distinct((owners << numpy.uint64(32)) | (_mix(mixed[whole]) >> numpy.uint64(32)))
    bounds = numpy.searchsorted(
        keyed >> numpy.uint64(32), numpy.arange(len(found) + 1, dtype=numpy.uint64)
    )
    return keyed.astype(numpy.uint32), bounds


def _distinct(values: numpy.ndarray) -> numpy.ndarray:
    """The distinct values, sorted (in place: `values` is the caller's scratch array).
    `numpy.unique` spends much of its time in its own Python."""
    values.sort()
    keep = numpy.empty(values.size, dtype=bool)
    keep[:1] = True
    numpy.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def minhash_values(shingles: numpy.ndarray, starts: numpy.ndarray) -> numpy.ndarray:
    """The MinHash signature datasketch makes of each body's hashed shingles (`shingles`
    holds the bodies one after the other; `starts`, where each begins; none is empty),
    one row per body. Its "affine32" scheme, as array expressions: each value mixed by
    MurmurHash3's 32-bit finaliser, then a * h + b modulo 2^32 for each permutation,
    the least of each body's kept. `MinHash.update_batch` calls a hash function for
    each value in Python (docs/benchmarks.md, "Eleventh session")."""
    rows = []
    first = 0
    while first < starts.size:
        last = int(numpy.searchsorted(starts, starts[first] + _MINHASH_SHINGLES, "right"))
        end = starts[last] if last < starts.size else shingles.size
        values = _A * _fmix32(shingles[starts[first] : end])
        values += _B
        rows.append(numpy.minimum.reduceat(values, starts[first:last] - starts[first], axis=1))
        first = last
    return numpy.concatenate(rows, axis=1).T if rows else numpy.empty((0, _A.size), numpy.uint32)


def _fmix32(values: numpy.ndarray) -> numpy.ndarray:
    """MurmurHash3's 32-bit finaliser (as datasketch applies it before permuting)."""
    values = values ^ (values >> numpy.uint32(16))
    values *= numpy.uint32(0x85EBCA6B)
    values ^= values >> numpy.uint32(13)
    values *= numpy.uint32(0xC2B2AE35)
    return values ^ (values >> numpy.uint32(16))


def band_keys(minhashes: numpy.ndarray) -> list[tuple[int, ...]]:
    """For each row of `minhash_values`, one signed 64-bit key per band (PostgreSQL's
    bigint): the band's number and its ROWS values (32 bits each), weighted and mixed."""
    rows = minhashes.astype(numpy.uint64).reshape(-1, BANDS, ROWS)
    mixed = numpy.tile(numpy.arange(BANDS, dtype=numpy.uint64) * _WEIGHTS[-1], (len(rows), 1))
    for row in range(ROWS):
        mixed += rows[:, :, row] * _WEIGHTS[row]
    return list(map(tuple, _mix(mixed).view(numpy.int64).tolist()))


def _mix(values: numpy.ndarray) -> numpy.ndarray:
    """MurmurHash3's 64-bit finaliser: every input bit moves about half the output's."""
    values = values ^ (values >> numpy.uint64(33))
    values = values * numpy.uint64(0xFF51AFD7ED558CCD)
    values = values ^ (values >> numpy.uint64(33))
    values = values * numpy.uint64(0xC4CEB9FE1A85EC53)
    return values ^ (values >> numpy.uint64(33))


def resemblance(a: Fingerprint, b: Fingerprint) -> float:
    """The share of the shorter body's shingles that the other has (0-1): a copy
    that aggregators trimmed, or a version with paragraphs added, keeps most of them."""
    if not a.shingles.size or not b.shingles.size:
        return 0.0
    shared = numpy.intersect1d(a.shingles, b.shingles, assume_unique=True).size
    return shared / min(a.shingles.size, b.shingles.size)


def figures_agree(a: Fingerprint, b: Fingerprint) -> bool:
    """Every figure of the body with fewer of them is in the other: two notices of one
    template ("Qtly div 10 cts ... Pay April 30") differ in their figures."""
    fewer, more = sorted((a.figures, b.figures), key=len)
    return fewer <= more


def same_story(a: Fingerprint, b: Fingerprint) -> bool:
    return resemblance(a, b) >= SAME_STORY and figures_agree(a, b)


def offered(a: Fingerprint, b: Fingerprint) -> bool:
    """Whether the LSH lookup would offer one as a candidate for the other."""
    return len(set(a.bands).intersection(b.bands)) >= MIN_SHARED_BANDS


def band_rows(signed: Mapping[int, tuple[int, ...]]) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Every (band key, article id) of these articles' band keys, as two arrays, an
    article's rows together, in the mapping's order."""
    counts = list(map(len, signed.values()))
    bands = numpy.fromiter(chain.from_iterable(signed.values()), numpy.int64, sum(counts))
    ids = numpy.repeat(numpy.fromiter(signed, dtype=numpy.int64, count=len(signed)), counts)
    return bands, ids


class BandIndex:
    """Band keys held in memory, for a large import into a small archive: the bulk
    loader drops the band table's index with the others it defers (a random insert
    into it was most of what storing a batch's keys cost) and looks each batch's
    candidates up here instead, among the archive's keys read at the start and those
    of every batch placed since.

    Keys are kept in sorted runs (band keys and their articles, as numpy arrays);
    two runs of similar size are merged, so a run is merged about log2(batches)
    times and a lookup searches as many runs."""

    def __init__(self):
        self._runs: list[tuple[numpy.ndarray, numpy.ndarray]] = []

    @classmethod
    def from_archive(cls) -> BandIndex:
        index = cls()
        with connection.cursor() as cursor:
            cursor.execute("SELECT band, article_id FROM articles_storyband")
            rows = numpy.array(cursor.fetchall(), dtype=numpy.int64).reshape(-1, 2)
        index._add_run(rows[:, 0], rows[:, 1])
        return index

    def add(self, bands: numpy.ndarray, ids: numpy.ndarray) -> None:
        """Hold these (band key, article) rows (`band_rows`)."""
        self._add_run(bands, ids)

    def _add_run(self, bands: numpy.ndarray, ids: numpy.ndarray) -> None:
        if not bands.size:
            return
        self._runs.append((bands, ids))
        while len(self._runs) > 1 and self._runs[-2][0].size <= 2 * self._runs[-1][0].size:
            (newer_bands, newer_ids), (older_bands, older_ids) = self._runs.pop(), self._runs.pop()
            self._runs.append(
                (
                    numpy.concatenate([older_bands, newer_bands]),
                    numpy.concatenate([older_ids, newer_ids]),
                )
            )
        bands, ids = self._runs[-1]
        order = numpy.argsort(bands, kind="stable")
        self._runs[-1] = (bands[order], ids[order])

    def holders(self, keys: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
        """The (band key, article) rows holding any of these keys, as two arrays, each row
        once (two articles of a batch may have a key in common)."""
        # Sorted, the keys' binary searches walk the runs in order, far faster.
        keys = numpy.unique(keys)
        found = [(numpy.empty(0, numpy.int64), numpy.empty(0, numpy.int64))]
        for run_bands, run_ids in self._runs:
            starts = numpy.searchsorted(run_bands, keys, side="left")
            held = run_bands[numpy.minimum(starts, run_bands.size - 1)] == keys
            ends = numpy.searchsorted(run_bands, keys[held], side="right")
            rows = _ranges(starts[held], ends)
            found.append((run_bands[rows], run_ids[rows]))
        bands, ids = zip(*found, strict=True)
        return numpy.concatenate(bands), numpy.concatenate(ids)


def _ranges(starts: numpy.ndarray, ends: numpy.ndarray) -> numpy.ndarray:
    """The positions from each start to its end, one range after the other."""
    counts = ends - starts
    offsets = numpy.cumsum(counts) - counts
    return numpy.repeat(starts - offsets, counts) + numpy.arange(counts.sum())


# --- in the database --------------------------------------------------------------


def place_articles(articles: Iterable[tuple[int, str, str]], cursor=None) -> dict[int, int]:
    """Give each (article id, title, body), already in the archive, its story, in
    order: the story of its most resembling copy among the archive and the articles
    placed before it, else a new one. Stores each signature. Returns {article id:
    story id}."""
    articles = list(articles)
    if not articles:
        return {}
    if cursor is None:
        with transaction.atomic(), connection.cursor() as own:
            return place_articles(articles, own)
    texts = {pk: (body, title) for pk, title, body in articles}
    placement = place(cursor, _sign(texts), texts)
    placement.store_signatures(cursor)
    _set_stories(cursor, placement.stories)
    return placement.stories


@dataclass
class Placement:
    """The stories of a batch of articles and the band keys to store for them."""

    stories: dict[int, int]  # article id -> story id
    signed: dict[int, tuple[int, ...]]  # article id -> band keys

    def store_signatures(self, cursor, *, replace: bool = True) -> None:
        """Once the articles are in the archive (a signature names its article).
        Without `replace`, for articles just made: no older keys of theirs to delete
        (a large import drops the index the deletion would use)."""
        _store_signatures(cursor, self.signed, replace=replace)


def place(
    cursor,
    signed: dict[int, tuple[int, ...]],
    texts: Mapping[int, tuple[str, str]],
    in_memory: BandIndex | None = None,
) -> Placement:
    """Stories for these articles, in order (see `place_articles`), from their band keys
    (`signatures`) and, for those with candidates, their (body, title): before the
    articles are written, so new stories are made and nothing else is. With
    `in_memory`, candidates are looked up there rather than in the band table, and
    these articles' keys are added to it."""
    keys, owners = band_rows(signed)
    if in_memory is None:
        holders = _archive_holders(cursor, keys)
    else:
        holders = in_memory.holders(keys)
        in_memory.add(keys, owners)
    candidates = _candidates(keys, owners, *holders)
    for pk, earlier in _batch_candidates(keys, owners).items():
        candidates.setdefault(pk, []).extend(earlier)
    compared = candidates.keys() | {pk for found in candidates.values() for pk in found}
    new = [pk for pk in signed if pk in compared]
    prints = _confirming({pk: texts[pk] for pk in new})
    archived = compared - signed.keys()
    known = _confirming(_texts(cursor, archived))
    stories = _stories_of(cursor, archived)
    chosen: dict[int, int | None] = {}  # article -> the article whose story it joins
    for pk in signed:
        best, best_score = None, 0.0
        for other in candidates.get(pk, ()):
            other_print = prints.get(other) if other in chosen else known.get(other)
            if other_print is None or (other in known and other not in stories):
                continue  # later in this batch, or not placed yet
            if same_story(prints[pk], other_print):
                score = resemblance(prints[pk], other_print)
                if score > best_score:
                    best, best_score = other, score
        chosen[pk] = best
    return Placement(_placed(cursor, chosen, stories), signed)


def _placed(cursor, chosen: dict[int, int | None], stories: dict[int, int]) -> dict[int, int]:
    """Story ids for `chosen`, in order: new stories made in one statement."""
    starting = [pk for pk, copy_of in chosen.items() if copy_of is None]
    cursor.execute(
        "INSERT INTO articles_story (created_at) SELECT now() FROM generate_series(1, %s) "
        "RETURNING id",
        [len(starting)],
    )
    new_ids = iter(row[0] for row in cursor.fetchall())
    placed = {}
    for pk, copy_of in chosen.items():
        placed[pk] = next(new_ids) if copy_of is None else placed.get(copy_of, stories.get(copy_of))
    return placed


# PostgreSQL's binary COPY format: a row is its number of fields, then each field's
# length and value, big-endian. A batch's rows are built as one numpy array rather
# than a text line or a tuple a row (docs/benchmarks.md, "Tenth session").
_BAND_ROW = numpy.dtype(
    [
        ("fields", ">i2"),
        ("band_size", ">i4"),
        ("band", ">i8"),
        ("article_size", ">i4"),
        ("article", ">i8"),
    ]
)
_BINARY_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # no flags, no extension
_BINARY_COPY_TRAILER = b"\xff\xff"  # a field count of -1


def _store_signatures(cursor, signed: dict[int, tuple[int, ...]], *, replace: bool = True) -> None:
    """Store these articles' band keys, `replace`-ing any they had."""
    if not signed:
        return
    if replace:
        cursor.execute("DELETE FROM articles_storyband WHERE article_id = ANY(%s)", [list(signed)])
    bands, ids = band_rows(signed)
    rows = numpy.empty(bands.size, dtype=_BAND_ROW)
    rows["fields"], rows["band_size"], rows["article_size"] = 2, 8, 8
    rows["band"], rows["article"] = bands, ids
    # In the band index's order, each of its pages is visited once a batch.
    rows = rows[numpy.argsort(rows["band"])]
    sql = "COPY articles_storyband (band, article_id) FROM STDIN (FORMAT BINARY)"
    with cursor.cursor.copy(sql) as copy:
        copy.write(_BINARY_COPY_HEADER + rows.tobytes() + _BINARY_COPY_TRAILER)


def _bigint_array(values: Iterable[int]) -> str:
    """PostgreSQL's literal of a bigint[]: tens of thousands of band keys are sent as
    one string, not adapted one by one."""
    return "{" + ",".join(map(str, values)) + "}"


def _archive_holders(cursor, keys: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The (band key, article) rows of the band table holding any of these keys."""
    if not keys.size:
        return keys, keys
    # One scan of the band index for the whole batch's keys: PostgreSQL sorts the
    # key array itself and walks it through the B-tree once.
    cursor.execute(
        "SELECT band, article_id FROM articles_storyband WHERE band = ANY(%s::bigint[])",
        [_bigint_array(keys.tolist())],
    )
    rows = numpy.array(cursor.fetchall(), dtype=numpy.int64).reshape(-1, 2)
    return rows[:, 0], rows[:, 1]


def _candidates(
    keys: numpy.ndarray, owners: numpy.ndarray, held: numpy.ndarray, holders: numpy.ndarray
) -> dict[int, list[int]]:
    """The archived articles most alike to each of these (`_most_shared`): `keys` and
    their `owners` are this batch's (band key, article) rows, `held` and `holders`
    the archive's rows holding any of those keys."""
    order = numpy.argsort(held, kind="stable")
    held, holders = held[order], holders[order]
    starts = numpy.searchsorted(held, keys, side="left")
    ends = numpy.searchsorted(held, keys, side="right")
    articles = numpy.repeat(owners, ends - starts)
    others = holders[_ranges(starts, ends)]
    copies = articles != others  # an updated article is not its own copy
    return _most_shared(articles[copies], others[copies])


def _most_shared(articles: numpy.ndarray, others: numpy.ndarray) -> dict[int, list[int]]:
    """{article: the others sharing most bands with it}, from one (article, other) pair
    per band they share: those sharing at least MIN_SHARED_BANDS, at most
    MAX_CANDIDATES of them, lowest id first among equals."""
    if not articles.size:
        return {}
    order = numpy.lexsort((others, articles))
    articles, others = articles[order], others[order]
    new_pair = numpy.ones(articles.size, dtype=bool)
    new_pair[1:] = (articles[1:] != articles[:-1]) | (others[1:] != others[:-1])
    firsts = numpy.flatnonzero(new_pair)
    shared = numpy.diff(numpy.append(firsts, articles.size))
    enough = shared >= MIN_SHARED_BANDS
    articles, others, shared = articles[firsts][enough], others[firsts][enough], shared[enough]
    ranked = numpy.lexsort((others, -shared, articles))
    found: dict[int, list[int]] = {}
    for article, other in zip(articles[ranked].tolist(), others[ranked].tolist(), strict=True):
        most = found.setdefault(article, [])
        if len(most) < MAX_CANDIDATES:
            most.append(other)
    return found


def _batch_candidates(keys: numpy.ndarray, owners: numpy.ndarray) -> dict[int, list[int]]:
    """The articles before each one of the batch that share bands with it
    (`_most_shared`): the batch's own LSH lookup, on its (band key, article) rows
    (`band_rows`: an article's rows together, in the batch's order)."""
    next_article = numpy.ones(owners.size, dtype=bool)
    next_article[1:] = owners[1:] != owners[:-1]
    by_key = numpy.lexsort((numpy.cumsum(next_article), keys))  # in the batch's order
    keys, owners = keys[by_key], owners[by_key]
    next_key = numpy.ones(keys.size, dtype=bool)
    next_key[1:] = keys[1:] != keys[:-1]
    first_of_key = numpy.maximum.accumulate(numpy.where(next_key, numpy.arange(keys.size), 0))
    # Only the keys two articles of the batch have are followed: most are one's own.
    later, earlier = [], []
    for row in numpy.flatnonzero(~next_key).tolist():
        first = int(first_of_key[row])
        later += [int(owners[row])] * (row - first)
        earlier += owners[first:row].tolist()
    return _most_shared(
        numpy.array(later, dtype=numpy.int64), numpy.array(earlier, dtype=numpy.int64)
    )


def _texts(cursor, ids: set[int]) -> dict[int, tuple[str, str]]:
    """{article id: (body, title)}."""
    if not ids:
        return {}
    cursor.execute("SELECT id, body, title FROM articles_article WHERE id = ANY(%s)", [list(ids)])
    return {pk: (body, title) for pk, body, title in cursor.fetchall()}


def _stories_of(cursor, ids: set[int]) -> dict[int, int]:
    if not ids:
        return {}
    cursor.execute(
        "SELECT id, story_id FROM articles_article WHERE id = ANY(%s) AND story_id IS NOT NULL",
        [list(ids)],
    )
    return dict(cursor.fetchall())


def _set_stories(cursor, placed: dict[int, int]) -> None:
    cursor.execute(
        """
        UPDATE articles_article a SET story_id = p.story
        FROM unnest(%s::bigint[], %s::bigint[]) AS p(id, story)
        WHERE a.id = p.id
        """,
        [list(placed), list(placed.values())],
    )


def place_unplaced(batch_size: int = 2000) -> int:
    """Stories for every article without one (those loaded before stories existed),
    oldest first so the first publication starts each story. Returns how many."""
    from articles.models import Article

    done = 0
    unplaced = Article.objects.filter(story__isnull=True).order_by("published_at", "id")
    while batch := list(unplaced.values_list("pk", "title", "body")[:batch_size]):
        place_articles(batch)
        done += len(batch)
    return done


def sign_again(batch_size: int = 2000) -> int:
    """Make the band keys of every article in a story again from its text: after a
    change to how they are made, old and new keys would not match. Returns how many
    articles."""
    done, last_id = 0, 0
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM articles_storyband")
        while True:
            cursor.execute(
                "SELECT id, title, body FROM articles_article "
                "WHERE id > %s AND story_id IS NOT NULL ORDER BY id LIMIT %s",
                [last_id, batch_size],
            )
            rows = cursor.fetchall()
            if not rows:
                return done
            _store_signatures(cursor, _sign({pk: (body, title) for pk, title, body in rows}))
            done += len(rows)
            last_id = rows[-1][0]


def place_saved(article) -> None:
    """The normal loader's hook, for an article it has just created or updated: a new
    one gets its story; an updated one keeps its story (a curator may have chosen it)
    and gets the signature of its new text."""
    with connection.cursor() as cursor:
        if article.story_id is None:
            place_articles([(article.pk, article.title, article.body)], cursor)
        else:
            _store_signatures(cursor, _sign({article.pk: (article.body, article.title)}))


# --- curators' changes (admin) ------------------------------------------------------


def split_off(article_ids) -> int:
    """Move these articles into a story of their own (they are not copies of the rest).
    Returns the new story's id."""
    from articles.models import Article, Story

    with transaction.atomic():
        story = Story.objects.create()
        Article.objects.filter(pk__in=list(article_ids)).update(story=story)
    return story.pk


def merge(story_ids) -> int | None:
    """Move the copies of these stories into the oldest of them and delete the others.
    Returns the story kept."""
    from articles.models import Article, Story

    ids = sorted(story_ids)
    if not ids:
        return None
    kept, *merged = ids
    with transaction.atomic():
        Article.objects.filter(story__in=merged).update(story=kept)
        Story.objects.filter(pk__in=merged).delete()
    return kept
