"""Input formats: which inputs to read, what format each is in, and its records.

``extract_records`` yields ``Extracted | IngestError`` items. A problem with the
whole input (too large, not text, not the format it claims, a CSV with no body
column) is *raised* as IngestError, before or during iteration, and nothing more
comes from that input. A problem with one record of a bulk input (an empty CSV
row, a bad JSON line, a WARC page with no text, a truncated WARC record) is
*yielded* as an IngestError whose message starts with the record's origin, and
the other records still come:

    for item in extract_records(raw, fmt, origin):
        if isinstance(item, IngestError):
            report(item)  # this record only
            continue
        ...

Record origins are ``"<path>#<n>"`` (n from 1: CSV data rows, JSON records,
JSONL line numbers) and ``"<path>#<record URL>"`` for WARC.
"""

from __future__ import annotations

import codecs
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

from articles.ingest.decode import decode_bytes
from articles.ingest.html import extract_html
from articles.ingest.records import Extracted, IngestError
from articles.ingest.tabular import ColumnMap, read_csv, read_json, read_jsonl
from articles.ingest.warc import read_warc

__all__ = [
    "FORMATS",
    "MAX_INPUT_BYTES",
    "too_large",
    "ColumnMap",
    "detect_format",
    "discover_inputs",
    "extract_records",
]

FORMATS = ("txt", "html", "csv", "jsonl", "json", "warc")
MAX_INPUT_BYTES = 50 * 1024 * 1024
MANIFEST_NAME = "manifest.json"

_BY_EXTENSION = {
    ".txt": "txt",
    ".text": "txt",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".warc": "warc",
}
_GZIP_MAGIC = b"\x1f\x8b"
# An object opening with its list of records: {"articles": [ ... is JSON, not JSONL.
_RECORD_LIST_OPENING = re.compile(
    r'\{\s*"(?:articles|records|items|data|results|documents|entries)"\s*:\s*\[', re.IGNORECASE
)


def detect_format(path: Path, head: bytes) -> str:
    """One of FORMATS, from the file name, else from the first bytes (``head``).

    Text with no recognisable structure is "txt"; so is anything unreadable,
    which decoding then reports as binary.
    """
    name = path.name.lower()
    if name.endswith((".warc", ".warc.gz")):
        return "warc"
    if fmt := _BY_EXTENSION.get(path.suffix.lower()):
        return fmt
    return _sniff(head)


def extract_records(
    raw: bytes,
    fmt: str,
    origin: str,
    columns: ColumnMap | None = None,
    max_bytes: int = MAX_INPUT_BYTES,
) -> Iterator[Extracted | IngestError]:
    """The records in one input, as Extracted items or per-record IngestErrors.

    ``fmt`` is one of FORMATS, or "auto" to detect it from ``origin`` and the
    bytes. ``columns`` names CSV columns / JSON keys for the tabular formats.
    """
    if len(raw) > max_bytes:
        raise too_large(origin, len(raw), max_bytes)
    if fmt == "auto":
        fmt = detect_format(Path(origin), raw[:4096])
    if fmt == "txt":
        yield Extracted(origin=origin, text=decode_bytes(raw, origin))
    elif fmt == "html":
        yield extract_html(raw, origin)
    elif fmt == "csv":
        yield from read_csv(decode_bytes(raw, origin), origin, columns)
    elif fmt == "jsonl":
        yield from read_jsonl(decode_bytes(raw, origin), origin, columns)
    elif fmt == "json":
        yield from read_json(decode_bytes(raw, origin), origin, columns)
    elif fmt == "warc":
        yield from read_warc(raw, origin)
    else:
        raise IngestError(f"{origin}: unknown format {fmt!r} (use one of: {', '.join(FORMATS)})")


def discover_inputs(paths: list[Path]) -> list[Path]:
    """The files to load: each file named, and every file under each directory named.

    Directories are walked recursively in sorted order, skipping hidden files and
    folders. ``manifest.json`` is never an input, even when named (``dir/*``
    names it): it holds hints for the files beside it. A path that does not
    exist raises IngestError.
    """
    found: dict[Path, None] = {}
    for path in paths:
        if path.is_dir():
            found.update(dict.fromkeys(_files_under(path)))
        elif path.is_file():
            if path.name != MANIFEST_NAME:
                found[path] = None
        else:
            raise IngestError(f"{path}: no such file or directory")
    return list(found)


def _files_under(directory: Path) -> list[Path]:
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file()
        and path.name != MANIFEST_NAME
        and not any(part.startswith(".") for part in path.relative_to(directory).parts)
    )


def _sniff(head: bytes) -> str:
    if head.startswith(_GZIP_MAGIC):
        return "warc" if _gunzip_start(head).startswith(b"WARC/") else "txt"
    start = head.removeprefix(codecs.BOM_UTF8).lstrip()
    lowered = start.lower()
    if start.startswith(b"WARC/"):
        return "warc"
    if start.startswith(b"<") and (b"<html" in lowered or b"<!doctype html" in lowered):
        return "html"
    if start.startswith(b"["):
        return "json"
    if start.startswith(b"{"):
        return _json_or_jsonl(start.decode("utf-8", errors="replace"))
    return "txt"


def _json_or_jsonl(text: str) -> str:
    if _RECORD_LIST_OPENING.match(text):
        return "json"
    first_line, newline, _ = text.partition("\n")
    if not newline:
        return "jsonl"  # a first record longer than the head we were given
    try:
        json.loads(first_line)
    except ValueError:
        return "json"  # an object spread over several lines
    return "jsonl"


def _gunzip_start(head: bytes) -> bytes:
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head)
    except zlib.error:
        return b""


def too_large(origin: str, size: int, max_bytes: int, *, kept: bool = True) -> IngestError:
    unkept = "" if kept else ", not kept"
    return IngestError(
        f"{origin}: too large to load ({_mebibytes(size)}; "
        f"the limit is {_mebibytes(max_bytes)}){unkept}"
    )


def _mebibytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"
