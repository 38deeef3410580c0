"""WARC captures (.warc, .warc.gz): one article per HTML page the crawler fetched.

Yields ``Extracted | IngestError`` items, like the tabular readers: each HTML
``response`` record (status 200) becomes an Extracted through ``extract_html``,
with the record's URL as ``source_url`` and the capture time as
``captured_at``; ``published_at`` stays the page's own date (None when the page
has none, for the identify stage to decide). A record that fails yields an
IngestError whose origin is ``"<path>#<record URL>"``. Requests, metadata,
redirects and non-HTML responses are skipped without a word.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from dataclasses import replace

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord

from articles.ingest.html import extract_html, parse_iso_datetime
from articles.ingest.records import Extracted, IngestError

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# What a damaged archive raises from warcio or from the gzip layer beneath it.
_READ_ERRORS = (ArchiveLoadFailed, zlib.error, EOFError, OSError, ValueError)
_DRAIN_CHUNK = 1 << 16


def read_warc(raw: bytes, origin: str) -> Iterator[Extracted | IngestError]:
    """The articles in a WARC file, then an IngestError if the file stops short.

    A file that is not a WARC at all raises IngestError; a damaged one yields what
    was read before the damage, then one IngestError saying where it stopped.
    """
    records_read = 0
    cut_reported = False
    try:
        for record in ArchiveIterator(io.BytesIO(raw)):
            if record.format != "warc":
                # warcio also reads the older ARC format, and takes any text whose
                # first line has five words for an ARC header.
                raise ArchiveLoadFailed(f"found an {record.format.upper()} record, not WARC")
            if not record.rec_type:
                continue  # what warcio makes of blank input or a header with no fields
            records_read += 1
            if _is_html_page(record):
                item = _page(record, origin)
                cut_reported = isinstance(item, IngestError) and _is_cut_short(record)
                yield item
            elif _is_cut_short(record, drain=True):
                cut_reported = True
                yield _truncated(record, origin)
    except _READ_ERRORS as error:
        if records_read == 0:
            raise IngestError(f"{origin}: not a readable WARC file ({_one_line(error)})") from error
        yield IngestError(
            f"{origin}: damaged after {records_read} records, the rest was not read "
            f"({_one_line(error)})"
        )
        return
    if not cut_reported and _gzip_cut_short(raw):
        # warcio reads a gzip stream that stops mid-member as if it had ended.
        if records_read == 0:
            raise IngestError(f"{origin}: not a readable WARC file (the gzip data is cut short)")
        yield IngestError(
            f"{origin}: damaged after {records_read} records, the rest was not read "
            "(the gzip data is cut short)"
        )
        return
    if records_read == 0:
        raise IngestError(f"{origin}: not a WARC file (no WARC records in it)")


def _gzip_cut_short(raw: bytes) -> bool:
    """True when gzip input (one member per record, or one for the file) ends
    inside a member. Decompresses in bounded pieces, keeping nothing."""
    if not raw.startswith(b"\x1f\x8b"):
        return False
    rest = raw
    while rest:
        member = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            member.decompress(rest, _DRAIN_CHUNK)
            while member.unconsumed_tail and not member.eof:
                member.decompress(member.unconsumed_tail, _DRAIN_CHUNK)
        except zlib.error:
            return False  # not gzip after all: the reader reports it
        if not member.eof:
            return True
        rest = member.unused_data
    return False


def _is_html_page(record: ArcWarcRecord) -> bool:
    if record.rec_type != "response" or record.http_headers is None:
        return False
    if record.http_headers.get_statuscode() != "200":
        return False
    return _media_type(record.http_headers.get_header("Content-Type")) in _HTML_TYPES


def _page(record: ArcWarcRecord, origin: str) -> Extracted | IngestError:
    url = record.rec_headers.get_header("WARC-Target-URI") or ""
    payload = record.content_stream().read()
    if _is_cut_short(record):
        return _truncated(record, origin)
    try:
        extracted = extract_html(
            payload, _record_origin(record, origin), url=url, charset=_charset(record.http_headers)
        )
    except IngestError as error:
        return error
    # WARC-Date is ISO 8601 UTC by the standard; old crawls (ClueWeb09) wrote
    # impossible dates such as "2008-10-294T05:21:46-0700", which stay unknown.
    captured = parse_iso_datetime(record.rec_headers.get_header("WARC-Date"))
    return replace(extracted, captured_at=captured)


def _record_origin(record: ArcWarcRecord, origin: str) -> str:
    name = record.rec_headers.get_header("WARC-Target-URI")
    return f"{origin}#{name or record.rec_headers.get_header('WARC-Record-ID')}"


def _is_cut_short(record: ArcWarcRecord, drain: bool = False) -> bool:
    # warcio stops quietly at the end of the data: a record whose declared
    # Content-Length was not all there is the sign the file was cut.
    if drain:
        while record.raw_stream.read(_DRAIN_CHUNK):
            pass
    return getattr(record.raw_stream, "limit", 0) > 0


def _truncated(record: ArcWarcRecord, origin: str) -> IngestError:
    return IngestError(
        f"{_record_origin(record, origin)}: the record is truncated (the file ends inside it)"
    )


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _charset(http_headers) -> str:
    for parameter in (http_headers.get_header("Content-Type") or "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'")
    return ""


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__
