"""A fuzz corpus of malformed inputs through the loader: no crash, a clear error
naming each bad file, nothing half-written.

The cases are made here, from a fixed seed: random bytes, NUL bytes, truncated
gzip and WARC, gigantic lines, deeply nested HTML, mixed encodings, a file over
the size limit, malformed CSV / JSON / JSONL, garbage manifests, and real files
from ../shared/corpora cut short or with bytes flipped. docs/reliability.md
records how many cases run.
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count

from articles.ingest.loader import Loader, LoadOptions
from articles.ingest.save import sha256_of
from articles.models import Article, SourceDocument
from tests.conftest import BASE_DIR, CORPORA, SEEDS

pytestmark = pytest.mark.django_db

SEED = 20_240_601
# Small, so "over the size limit" costs little; every other case is under it.
MAX_BYTES = 3 * 1024 * 1024
EXTENSIONS = (".txt", ".html", ".csv", ".json", ".jsonl", ".warc", ".warc.gz", "")
STORY = (
    "Russian forces shelled Kharkiv overnight, regional officials said on Tuesday, "
    "as Ukraine pressed its counteroffensive near Bakhmut and NATO ministers met in "
    "Brussels to discuss air defence.\n\n"
    "Volodymyr Zelensky said the strikes hit energy infrastructure across the region. "
    "Officials in Kyiv said repairs would take weeks.\n"
)
# Inputs that can never become an article: each must fail with a reason.
MUST_FAIL = "must-fail"
MAY_LOAD = "may-load"


def _cases(rng: random.Random) -> Iterator[tuple[str, bytes, str]]:
    """(relative path, bytes, expectation) for every case."""
    yield from _random_bytes(rng)
    yield from _nul_bytes()
    yield from _gzip_and_warc(rng)
    yield from _gigantic_and_nested()
    yield from _encodings()
    yield from _tabular()
    yield from _real_files_damaged(rng)


def _random_bytes(rng: random.Random):
    for index in range(40):
        size = rng.choice([0, 1, 7, 100, 4096, 65_536])
        data = bytes(rng.getrandbits(8) for _ in range(size))
        # A few random bytes can be valid text in some encoding; 4 KiB cannot.
        expectation = MUST_FAIL if size == 0 or size >= 4096 else MAY_LOAD
        yield f"random/{index:02d}{EXTENSIONS[index % len(EXTENSIONS)]}", data, expectation
    for extension in EXTENSIONS:
        yield f"empty/empty{extension or '-none'}", b"", MUST_FAIL
        yield f"blank/blank{extension or '-none'}", b" \n\t\r\n  \n", MUST_FAIL


def _nul_bytes():
    yield "nul/all-nul.txt", b"\x00" * 5000, MUST_FAIL
    yield "nul/sprinkled.txt", STORY.replace(" ", " \x00", 3).encode(), MAY_LOAD
    yield "nul/nul-title.txt", b"Kyiv\x00 shelled\n\n" + STORY.encode(), MAY_LOAD
    yield "nul/utf16-without-bom.txt", STORY.encode("utf-16-le"), MAY_LOAD
    record = {"title": "Strikes\u0000 on Kharkiv", "body": STORY.replace("\n", "\u0000\n")}
    yield "nul/escaped-nul.jsonl", (json.dumps(record) + "\n").encode(), MAY_LOAD
    yield "nul/nul.csv", b'title,body\nKharkiv\x00,"' + STORY.encode() + b'"\n', MAY_LOAD
    yield "nul/nul.html", b"<html><body><p>" + STORY.encode() + b"\x00" * 50 + b"</p>", MAY_LOAD


def _gzip_and_warc(rng: random.Random):
    real = sorted((CORPORA / "warc").glob("*.warc.gz"))
    for path in real:
        data = path.read_bytes()
        cuts = (10, 100, 3000) if len(data) > 100_000 else (10, 100, len(data) // 3)
        for cut in cuts:
            yield f"warc/cut-{cut}-{path.name}", data[:cut], MAY_LOAD
        plain = gzip.decompress(_gunzip_tolerant(data))
        for _ in range(2):
            cut = rng.randrange(len(plain))
            yield f"warc/plain-cut-{cut}-{path.stem}", plain[:cut], MAY_LOAD
    yield "warc/gzip-header-only.warc.gz", b"\x1f\x8b\x08\x00", MUST_FAIL
    yield "warc/gzip-of-random.warc.gz", gzip.compress(rng.randbytes(5000)), MUST_FAIL
    yield "warc/gzip-of-text.txt", gzip.compress(STORY.encode()), MUST_FAIL
    bomb = gzip.compress(b"WARC/1.0\r\n" + b"A" * (20 * 1024 * 1024))
    yield "warc/gzip-expands-to-20mib.warc.gz", bomb, MUST_FAIL
    header = (
        b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://example.org/\r\n"
        b"Content-Type: application/http; msgtype=response\r\nContent-Length: %s\r\n\r\n"
    )
    body = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><p>" + STORY.encode()
    yield "warc/length-too-long.warc", header % b"999999" + body, MAY_LOAD
    yield "warc/length-negative.warc", header % b"-5" + body, MUST_FAIL
    yield "warc/length-not-a-number.warc", header % b"lots" + body, MUST_FAIL
    yield "warc/header-only.warc", b"WARC/1.0\r\n\r\n", MUST_FAIL


def _gunzip_tolerant(data: bytes) -> bytes:
    """The real files are multi-member gzip; recompress them as one member."""
    import zlib

    out, rest = b"", data
    while rest:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out += decompressor.decompress(rest)
        rest = decompressor.unused_data
    return gzip.compress(out)


def _gigantic_and_nested():
    words = (STORY.replace("\n", " ") * 100).encode()  # 37 KB, no line break
    yield "huge/one-line-of-words.txt", words, MAY_LOAD
    # Over spaCy's 1,000,000-character limit in one paragraph (few tokens: fast).
    long_words = ("Kharkiv " + "x" * 2000 + " ") * 600
    yield "huge/one-paragraph-1.2m-chars.txt", f"Title\n\n{long_words}".encode(), MAY_LOAD
    yield "huge/one-word-2mib.txt", b"Kyiv" + b"a" * (2 * 1024 * 1024), MAY_LOAD
    yield "huge/over-the-limit.txt", STORY.encode() * (MAX_BYTES // len(STORY) + 10), MUST_FAIL
    yield "huge/title-only-huge.txt", b"K" * 300_000 + b"\n\n" + STORY.encode(), MAY_LOAD
    deep = "<div>" * 100_000 + "<p>" + STORY + "</p>" + "</div>" * 100_000
    yield "html/deep-divs.html", f"<html><body>{deep}</body></html>".encode(), MAY_LOAD
    unclosed = "<b><i><span>" * 50_000 + STORY
    yield "html/deep-unclosed.html", f"<html><body>{unclosed}".encode(), MAY_LOAD
    yield "html/only-tags.html", b"<html>" + b"<br>" * 20_000 + b"</html>", MUST_FAIL
    yield "html/script-only.html", b"<html><script>" + b"x=1;" * 10_000 + b"</script>", MUST_FAIL
    yield "html/comment-bomb.html", b"<html><!--" + b"-" * 500_000 + b"<p>x</p>", MUST_FAIL
    many_lines = ("Kyiv.\n" * 30_000).encode()
    yield "huge/many-short-lines.txt", many_lines, MAY_LOAD


def _encodings():
    latin = "Zelensky a déclaré à Kyiv que la contre-offensive progressait près de Kherson."
    yield "enc/latin1.txt", (latin + "\n\n" + latin).encode("latin-1"), MAY_LOAD
    mixed = latin.encode("utf-8") + b"\n\n" + latin.encode("latin-1") + b"\n\n" + STORY.encode()
    yield "enc/utf8-and-latin1.txt", mixed, MAY_LOAD
    yield "enc/utf16-bom.txt", codecs.BOM_UTF16_LE + STORY.encode("utf-16-le"), MAY_LOAD
    yield "enc/utf32-bom.txt", codecs.BOM_UTF32_LE + STORY.encode("utf-32-le"), MAY_LOAD
    yield "enc/bom-then-latin1.txt", codecs.BOM_UTF8 + latin.encode("latin-1"), MAY_LOAD
    yield "enc/overlong-utf8.txt", STORY.encode() + b"\xc0\xaf\xe0\x80\xaf" * 100, MAY_LOAD
    yield "enc/lone-surrogates.txt", STORY.encode() + b"\xed\xa0\x80" * 50, MAY_LOAD
    yield (
        "enc/cp1251-russian.txt",
        ("Москва заявила о наступлении. " * 20).encode("cp1251"),
        (MAY_LOAD),
    )
    yield (
        "enc/shift-jis.txt",
        ("ウクライナ東部で戦闘が続いている。" * 20).encode("shift_jis"),
        MAY_LOAD,
    )
    yield (
        "enc/html-lies-about-charset.html",
        (
            b'<html><head><meta charset="utf-16"></head><body><p>'
            + latin.encode("latin-1")
            + b"</p></body></html>"
        ),
        MAY_LOAD,
    )
    yield (
        "enc/html-unknown-charset.html",
        (
            b'<html><head><meta charset="x-no-such-charset"></head><body><p>'
            + STORY.encode()
            + b"</p></body></html>"
        ),
        MAY_LOAD,
    )


def _tabular():
    story = STORY.replace('"', "'")
    yield "csv/unbalanced-quote.csv", f'title,body\n"Kyiv,"{story}\n'.encode(), MAY_LOAD
    yield "csv/header-only.csv", b"title,body\n", MUST_FAIL
    yield "csv/no-body-column.csv", b"name,age\nKyiv,1\n", MUST_FAIL
    # Over the csv module's default 128 KiB field limit.
    yield "csv/huge-field.csv", b'title,body\nKyiv,"Kyiv ' + b"x" * 140_000 + b'"\n', MAY_LOAD
    many = ",".join(f"c{i}" for i in range(20_000))
    yield "csv/twenty-thousand-columns.csv", f"{many}\n{many}\n".encode(), MUST_FAIL
    yield "csv/ragged.csv", f'title,body\nA\nB,"{story}",extra,extra\n,,\n'.encode(), MAY_LOAD
    yield "csv/binary-in-cells.csv", b"title,body\n\xff\xfe\x00\x01,\x02\x03\x04\n", MUST_FAIL
    yield (
        "json/truncated-array.json",
        json.dumps([{"title": "A", "body": STORY}] * 3)[:-40].encode(),
        MUST_FAIL,
    )  # noqa: E501
    yield "json/no-text.json", b'{"unrelated": {"x": 1}}', MUST_FAIL
    yield "json/scalars.json", b'[1, 2, null, true, "x"]', MUST_FAIL
    yield "json/deep-nesting.json", b"[" * 100_000 + b"]" * 100_000, MUST_FAIL
    yield "json/deep-object.json", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, MUST_FAIL
    yield "json/huge-number.json", b'[{"title": 1e999999, "body": 12345678901234567890}]', MAY_LOAD
    surrogate = b'[{"title": "Kyiv \\ud800", "body": "' + story.encode() + b' \\udfff"}]'
    yield "json/lone-surrogate-escapes.json", surrogate, MAY_LOAD
    yield (
        "json/nested-values.json",
        json.dumps(
            [{"title": {"a": [1, {"b": 2}]}, "body": [STORY, {"x": 1}], "date": ["2024"]}]
        ).encode(),
        MAY_LOAD,
    )
    yield (
        "json/wrong-types.json",
        json.dumps(
            [{"title": 5, "body": STORY, "date": 17, "url": ["javascript:x"], "outlet": False}]
        ).encode(),
        MAY_LOAD,
    )
    yield (
        "json/bad-dates.json",
        json.dumps(
            [
                {"title": "A", "body": STORY, "date": "2023-02-30"},
                {"title": "B", "body": STORY + " B", "date": "99999-01-01T99:99"},
                {"title": "C", "body": STORY + " C", "date": "-1"},
            ]
        ).encode(),
        MAY_LOAD,
    )
    lines = [
        json.dumps({"title": "Good line", "body": STORY}),
        "{not json",
        "[1, 2]",
        "42",
        '"just a string"',
        json.dumps({"title": "No body"}),
        "",
        "\x00\x01\x02",
        json.dumps({"title": "X" * 100_000, "body": STORY + " long title"}),
    ]
    yield "jsonl/mixed.jsonl", "\n".join(lines).encode(), MAY_LOAD
    yield "jsonl/all-bad.jsonl", b"{\n}\n{]\n", MUST_FAIL
    yield "jsonl/one-giant-line.jsonl", b'{"title": "A", "body": "' + b"a" * 2_000_000, MUST_FAIL


GARBAGE_MANIFESTS = {
    "random-bytes": bytes(range(256)) * 4,
    "not-an-object": b"[1, 2, 3]",
    "wrong-types": json.dumps({"story.txt": {"outlet": 7, "published": ["x"]}}).encode(),
    "bad-date": json.dumps({"story.txt": {"published": "yesterday-ish"}}).encode(),
    "unknown-key": json.dumps({"story.txt": {"colour": "red"}}).encode(),
    "truncated": b'{"story.txt": {"outlet": "Reut',
    "deep": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
}


def _manifest_cases() -> Iterator[tuple[str, bytes, bytes]]:
    """(directory, manifest bytes, story bytes): each story must fail, naming the manifest."""
    for name, manifest in GARBAGE_MANIFESTS.items():
        yield f"manifest/{name}", manifest, (f"{name}: " + STORY).encode()


def _real_files_damaged(rng: random.Random):
    sources = [
        *sorted((CORPORA / "bbc" / "politics").glob("*.txt"))[:4],
        *sorted((CORPORA / "html").glob("*/source.html"))[:4],
        *sorted(SEEDS.glob("*.txt"))[:2],
    ]
    for path in sources:
        data = path.read_bytes()
        name = f"{path.parent.name}-{path.name}"
        cut = rng.randrange(1, max(2, len(data)))
        yield f"real/cut-{cut}-{name}", data[:cut], MAY_LOAD
        flipped = bytearray(data)
        for _ in range(max(1, len(data) // 200)):
            flipped[rng.randrange(len(flipped))] = rng.getrandbits(8)
        yield f"real/flipped-{name}", bytes(flipped), MAY_LOAD
    reuters = json.loads((CORPORA / "reuters21578" / "reut2-000.json").read_text())[:4]
    text = json.dumps(reuters)
    yield "real/reuters-cut.json", text[: len(text) * 2 // 3].encode(), MUST_FAIL
    jsonl = "\n".join(json.dumps(r) for r in reuters)
    yield "real/reuters-cut.jsonl", jsonl[: len(jsonl) * 2 // 3].encode(), MAY_LOAD


def write_corpus(root: Path) -> dict[Path, str]:
    """Write every case under `root`; returns {path: expectation}."""
    rng = random.Random(SEED)
    written: dict[Path, str] = {}
    for relative, data, expectation in _cases(rng):
        path = root / "cases" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written[path] = expectation
    for directory, manifest, story in _manifest_cases():
        folder = root / directory
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_bytes(manifest)
        (folder / "story.txt").write_bytes(story)
        written[folder / "story.txt"] = MUST_FAIL
    return written


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[Path, str]:
    return write_corpus(tmp_path_factory.mktemp("fuzz"))


def test_the_fuzz_corpus_has_every_family(corpus):
    families = {path.parent.name for path in corpus}
    assert {"random", "nul", "warc", "huge", "html", "enc", "csv", "json", "jsonl"} <= families
    assert sum(1 for path in corpus if "manifest" in path.parts) == len(GARBAGE_MANIFESTS)
    assert len(corpus) >= 150, len(corpus)  # docs/reliability.md gives the count


def test_malformed_inputs_fail_cleanly_and_nothing_is_half_written(corpus):
    articles_before = Article.objects.count()
    report = Loader(LoadOptions(max_bytes=MAX_BYTES)).load(sorted({p.parent for p in corpus}))

    assert report.files == len(corpus)
    sources = {s.sha256: s for s in SourceDocument.objects.defer("raw")}
    failures_by_file: dict[str, list[str]] = {}
    # A garbage manifest fails the file beside it, naming the manifest.
    names = {str(p): str(p) for p in corpus}
    names.update({str(p.parent / "manifest.json"): str(p) for p in corpus if "manifest" in p.parts})
    by_length = sorted(names, key=len, reverse=True)
    for failure in report.failures:
        named = next((p for p in by_length if failure.startswith(p)), None)
        origin = names.get(named)
        assert origin, f"a failure that names no input: {failure[:200]}"
        failures_by_file.setdefault(origin, []).append(failure)
        reason = failure[len(named) :].lstrip("#0123456789: ").strip()
        assert len(reason) >= 8 and "Traceback" not in failure, failure[:300]

    for path, expectation in corpus.items():
        source = sources.get(sha256_of(path.read_bytes()))
        assert source is not None, f"{path}: its bytes were not kept"
        assert source.status in {"loaded", "partial", "failed"}
        if expectation == MUST_FAIL:
            assert source.status == "failed", (path, source.status)
            assert failures_by_file.get(str(path)), f"{path}: no failure reported"
        if source.status != "loaded":
            assert source.error.strip(), path
        if source.status == "failed":
            assert not source.articles.exists(), path

    _assert_nothing_half_written()
    created = Article.objects.count() - articles_before
    assert created == report.created


def test_a_garbage_manifest_fails_each_file_beside_it_naming_the_manifest(corpus):
    Loader(LoadOptions(max_bytes=MAX_BYTES)).load([next(iter(corpus)).parents[2] / "manifest"])
    for directory in GARBAGE_MANIFESTS:
        story = next(p for p in corpus if p.parent.name == directory)
        source = SourceDocument.objects.get(sha256=sha256_of(story.read_bytes()))
        assert source.status == "failed"
        assert str(story.parent / "manifest.json") in source.error, source.error


def _assert_nothing_half_written() -> None:
    assert not Article.objects.annotate(n=Count("sections")).filter(n=0).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM articles_article a WHERE a.title = '' "
            "OR position(chr(1) in a.body) > 0"
        )
        assert cursor.fetchone()[0] == 0
        cursor.execute(
            "SELECT content_hash FROM articles_article GROUP BY content_hash HAVING count(*) > 1"
        )
        assert cursor.fetchall() == []


@pytest.mark.django_db(transaction=True)
def test_the_command_reports_each_bad_file_and_exits_1(tmp_path):
    """The operator's view: `load_articles` on a folder of bad files, in a subprocess."""
    cases = [
        (relative, data)
        for relative, data, expectation in _cases(random.Random(SEED))
        if expectation == MUST_FAIL and not relative.startswith("huge/")
    ][:30]
    for relative, data in cases:
        path = tmp_path / relative.replace("/", "-")
        path.write_bytes(data)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'].replace('/', '%2F')}/{db['NAME']}",
        "SECRET_KEY": "test-only-" + "k" * 40,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "load_articles", str(tmp_path)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED ")]
    named = {line.split(":", 1)[0].removeprefix("FAILED ").split("#")[0] for line in failed}
    bad_files = {str(p) for p in tmp_path.iterdir()}
    # Identical bytes are kept once and may be reported under their first name.
    assert named <= bad_files
    assert len(named) >= len({data for _, data in cases}) - 1
    assert f"files read:        {len(cases)}" in result.stdout
    assert "articles created:  0" in result.stdout
