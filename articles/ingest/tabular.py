"""CSV, JSON Lines and JSON exports: one article per row or record.

Columns (CSV) and keys (JSON) are recognised by their common names, in any case
and spelling ("Published At", "published_at", "publishedAt"), unless the
operator names them with a ``ColumnMap``.

The readers yield ``Extracted | IngestError`` items: an ``IngestError`` item is
one record that could not be read (its origin is ``"<path>#<n>"``) and the rest
still load. A problem with the whole input (not JSON, no body column) is raised.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from dateutil import parser as dateutil_parser
from dateutil.parser import UnknownTimezoneWarning

from articles.ingest.decode import normalise_newlines
from articles.ingest.records import Extracted, IngestError


@dataclass(frozen=True)
class ColumnMap:
    """Column (CSV) or key (JSON) names given by the operator; "" means recognise by name."""

    title: str = ""
    body: str = ""
    date: str = ""
    url: str = ""
    outlet: str = ""
    byline: str = ""
    description: str = ""
    dateline: str = ""  # "SALVADOR, Feb 26 -": put back in front of the body, where it ran


# Names recognised for each ColumnMap field, most specific first.
_KNOWN_NAMES: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline", "headlines", "heading"),
    "body": (
        "body",
        "text",
        "article",
        "articles",
        "content",
        "article_text",
        "full_text",
        "story",
    ),
    "date": (
        "date",
        "published",
        "published_at",
        "publish_date",
        "publication_date",
        "date_published",
        "pubdate",
        "datetime",
    ),
    "url": ("url", "link", "source_url", "article_url", "uri"),
    "outlet": ("outlet", "source", "site", "site_name", "publication", "publisher"),
    "byline": ("byline", "author", "authors", "by"),
    "description": ("description", "dek", "summary", "standfirst", "subtitle", "abstract"),
    "dateline": ("dateline",),
}
# Keys under which a JSON object holds its list of records.
_RECORD_LISTS = ("articles", "records", "items", "data", "results", "documents", "entries")
# A nested value (NewsAPI's "source": {"id": ..., "name": "BBC News"}) is read
# through the first of these keys it has.
_NESTED_TEXT_KEYS = ("name", "title", "text", "value")
_CSV_DELIMITERS = ",;\t|"
# Newswire copy (Reuters-21578) is hard-wrapped near 70 columns and starts each
# paragraph with an indent; text whose lines all fit this width and that has
# indented lines is rejoined into one line per paragraph.
_WRAP_WIDTH = 80
# All but \t and \n, and lone surrogates (a JSON "\ud800" escape), which no
# UTF-8 text, and so no database, can hold.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# Formats datetime.fromisoformat and RFC 2822 do not cover, tried before dateutil.
_DATE_FORMATS = (
    "%d-%b-%Y %H:%M:%S.%f",  # Reuters-21578: 26-FEB-1987 15:01:01.79
    "%d-%b-%Y %H:%M:%S",
)
_REUTERS_DATE = re.compile(r"\d{1,2}-[A-Za-z]{3}-\d{4} \d{1,2}:\d{2}:\d{2}(\.\d+)?")
# Two defaults that differ in day, month and year but not in time of day.
_DEFAULT_DAYS = (datetime(2000, 1, 1), datetime(2001, 2, 2))
# Zone abbreviations dateutil does not know by itself, as fixed offsets in seconds.
_HOUR = 3600
_ZONE_NAMES = {
    "UTC": 0,
    "GMT": 0,
    "BST": 1 * _HOUR,
    "CET": 1 * _HOUR,
    "CEST": 2 * _HOUR,
    "EET": 2 * _HOUR,
    "EEST": 3 * _HOUR,
    "MSK": 3 * _HOUR,
    "EST": -5 * _HOUR,
    "EDT": -4 * _HOUR,
    "CST": -6 * _HOUR,
    "CDT": -5 * _HOUR,
    "MST": -7 * _HOUR,
    "MDT": -6 * _HOUR,
    "PST": -8 * _HOUR,
    "PDT": -7 * _HOUR,
}
# Epoch timestamps: seconds up to this, milliseconds above it. Smaller numbers
# are not timestamps (a bare year such as 2022 is not 1970-01-01 00:33).
_LARGEST_EPOCH_SECONDS = 10**11
_SMALLEST_EPOCH_SECONDS = 10**8
_RFC2822_SHAPE = re.compile(r"([A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}")
_EPOCH_DIGITS = re.compile(r"\d{9,13}(\.\d+)?")


def read_csv(
    text: str, origin: str, columns: ColumnMap | None = None
) -> Iterator[Extracted | IngestError]:
    """One Extracted per CSV row (``origin#n``, n counting data rows from 1)."""
    _allow_fields_as_large_as(text)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    names = _resolve_names(reader.fieldnames or [], columns or ColumnMap(), origin, "column")
    number = 0
    try:
        for number, row in enumerate(reader, start=1):
            yield _extracted(row, names, f"{origin}#{number}")
    except csv.Error as error:
        # The csv module cannot resynchronise after a malformed row: report where it stopped.
        yield IngestError(f"{origin}#{number + 1}: unreadable CSV row, loading stopped ({error})")
        return
    if number == 0:
        raise IngestError(f"{origin}: no rows after the header")


def read_jsonl(
    text: str, origin: str, columns: ColumnMap | None = None
) -> Iterator[Extracted | IngestError]:
    """One Extracted per line holding a JSON object (``origin#n``, n the line number)."""
    lines = [(number, line) for number, line in enumerate(text.split("\n"), 1) if line.strip()]
    if len(lines) == 1:
        # A single line is a minified JSON document as often as a one-record JSONL file.
        yield from read_json(text, origin, columns)
        return
    parsed = [(f"{origin}#{number}", _parse_json_line(line)) for number, line in lines]
    records = [record for _, record in parsed if isinstance(record, dict)]
    if not records:
        raise IngestError(f"{origin}: not JSON Lines (no line holds a JSON object)")
    names = _resolve_names(_all_keys(records), columns or ColumnMap(), origin, "key")
    for record_origin, record in parsed:
        yield _extracted_or_error(record, names, record_origin)


def read_json(
    text: str, origin: str, columns: ColumnMap | None = None
) -> Iterator[Extracted | IngestError]:
    """One Extracted per record of a JSON array, or of the array under a key such as
    "articles", "records" or "items" (``origin#n``, n counting records from 1)."""
    try:
        document = json.loads(text, strict=False)  # strict=False: raw control characters occur
    except json.JSONDecodeError as error:
        raise IngestError(
            f"{origin}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from error
    except RecursionError as error:
        raise IngestError(f"{origin}: not valid JSON (nested too deeply)") from error
    records = _records_in(document, origin)
    if not records:
        raise IngestError(f"{origin}: the JSON holds no records")
    names = _resolve_names(
        _all_keys(r for r in records if isinstance(r, dict)), columns or ColumnMap(), origin, "key"
    )
    for number, record in enumerate(records, start=1):
        yield _extracted_or_error(record, names, f"{origin}#{number}")


def parse_date(value: object) -> datetime | None:
    """A date as exports write it, timezone-aware (naive means UTC); None if unreadable.

    Reads ISO 8601, RFC 2822, Reuters' "26-FEB-1987 15:01:01.79", epoch seconds or
    milliseconds, then what dateutil can read ("February 24, 2022 5:00 PM"; an
    ambiguous "02/03/2022" is month first). It never invents a day: "February
    2022", "yesterday" and "5" are None.
    """
    if isinstance(value, datetime):
        return _aware(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_epoch(value)
    if not isinstance(value, str) or not value.strip():
        return None
    value = " ".join(value.split())
    if _EPOCH_DIGITS.fullmatch(value):
        return _from_epoch(float(value))
    for parse in (_from_iso, _from_rfc2822, _from_known_formats, _from_dateutil):
        if (moment := parse(value)) is not None:
            return _aware(moment)
    return None


def _delimiter(text: str) -> str:
    # The header line alone decides: article text in later rows is full of
    # commas and semicolons that would mislead a guess made on the body.
    header = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=_CSV_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _allow_fields_as_large_as(text: str) -> None:
    # The csv default (128 KiB per field) is smaller than some articles; no field
    # can be larger than the file, and the file is already within the size limit.
    if len(text) > csv.field_size_limit():
        csv.field_size_limit(len(text))


def _resolve_names(
    available: Iterable[str], columns: ColumnMap, origin: str, kind: str
) -> dict[str, str]:
    """For each ColumnMap field, the column or key that holds it ("" when none does)."""
    by_key: dict[str, str] = {}
    for name in available:
        if name is not None:
            by_key.setdefault(_name_key(name), name)
    names = {}
    for field in fields(ColumnMap):
        wanted = getattr(columns, field.name)
        if wanted and _name_key(wanted) not in by_key:
            raise IngestError(
                f"{origin}: no {kind} named {wanted!r} (found: {', '.join(by_key.values())})"
            )
        candidates = (wanted,) if wanted else _KNOWN_NAMES[field.name]
        names[field.name] = next(
            (by_key[_name_key(c)] for c in candidates if _name_key(c) in by_key), ""
        )
    if not names["body"]:
        looked_for = ", ".join(_KNOWN_NAMES["body"][:3])
        raise IngestError(
            f"{origin}: no body {kind} (looked for {looked_for}...; name one with --body-column)"
        )
    return names


def _name_key(name: str) -> str:
    # "Published At", "published_at" and "publishedAt" are one name.
    return re.sub(r"[\W_]", "", name.casefold())


def _all_keys(records: Iterable[dict]) -> list[str]:
    return list(dict.fromkeys(key for record in records for key in record))


def _records_in(document: object, origin: str) -> list:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        by_key = {_name_key(key): value for key, value in document.items()}
        for key in _RECORD_LISTS:
            if isinstance(by_key.get(key), list):
                return by_key[key]
        return [document]  # one article as a single object
    raise IngestError(f"{origin}: expected a JSON array of records or an object holding one")


def _parse_json_line(line: str) -> object:
    try:
        return json.loads(line, strict=False)
    except json.JSONDecodeError as error:
        return IngestError(f"not valid JSON (column {error.colno}: {error.msg})")
    except RecursionError:
        return IngestError("not valid JSON (nested too deeply)")


def _extracted_or_error(
    record: object, names: dict[str, str], origin: str
) -> Extracted | IngestError:
    if isinstance(record, IngestError):
        return IngestError(f"{origin}: {record}")
    if not isinstance(record, dict):
        return IngestError(f"{origin}: expected a JSON object, found {type(record).__name__}")
    return _extracted(record, names, origin)


def _extracted(
    record: Mapping[str, object], names: dict[str, str], origin: str
) -> Extracted | IngestError:
    def value(field: str) -> object:
        return record.get(names[field]) if names[field] else None

    body = _unwrap_newswire(_body_text(value("body")))
    if not body:
        return IngestError(f"{origin}: empty {names['body']!r}, no article text")
    if dateline := _line_text(value("dateline")):
        body = f"{dateline} {body}"
    # {"articles": 5}, a row of dashes. (A Reuters item whose body is "1010" has its
    # words in the dateline: "Accumulative total at 1800 gmt - 1010".)
    if not any(character.isalpha() for character in body):
        return IngestError(f"{origin}: {names['body']!r} holds no words ({body[:40]!r})")
    return Extracted(
        origin=origin,
        text=body,
        title=_line_text(value("title")),
        byline=_line_text(value("byline")),
        source_url=_line_text(value("url")),
        site_name=_line_text(value("outlet")),
        published_at=parse_date(_line_text(value("date"))),
        description=_line_text(value("description")),
    )


def _body_text(value: object) -> str:
    lines = (line.rstrip() for line in _plain(value).split("\n"))
    return "\n".join(lines).strip()


def _unwrap_newswire(body: str) -> str:
    lines = body.split("\n")
    indented = any(line[:1] in (" ", "\t") and line.strip() for line in lines[1:])
    if not indented or max(len(line) for line in lines) > _WRAP_WIDTH:
        return body
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if not line.strip() or line[:1] in (" ", "\t"):
            paragraphs.append([])
        paragraphs[-1].append(line.strip())
    joined = (" ".join(part for part in paragraph if part) for paragraph in paragraphs)
    return "\n\n".join(paragraph for paragraph in joined if paragraph)


def _line_text(value: object) -> str:
    return " ".join(_plain(value).split())


def _plain(value: object) -> str:
    """A cell or JSON value as clean text.

    Exports of scraped pages keep HTML entities (Reuters-21578 has "&lt;" and
    control-character entities such as "&#3;"), so entities are resolved and
    control characters other than newline and tab dropped.
    """
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, dict):
        nested = next((value[key] for key in _NESTED_TEXT_KEYS if key in value), None)
        return _plain(nested)
    if isinstance(value, list):
        return "; ".join(part for part in (_line_text(item) for item in value) if part)
    return _CONTROL_CHARACTERS.sub("", normalise_newlines(html.unescape(str(value))))


def _from_iso(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _from_rfc2822(value: str) -> datetime | None:
    # email.utils reads far more than RFC 2822 and reads some of it wrongly
    # ("February 24, 2022 5:00 PM" comes back at 05:00): take only its own form.
    if not _RFC2822_SHAPE.match(value):
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    # Naive means a zone email.utils does not know ("MSK"): dateutil reads those.
    return moment if moment.tzinfo else None


def _from_known_formats(value: str) -> datetime | None:
    if match := _REUTERS_DATE.match(value):
        # Reuters-21578 dates can trail control-character debris ("...59.13RM").
        value = match.group(0)
    for date_format in _DATE_FORMATS:
        try:
            return datetime.strptime(value, date_format)
        except ValueError:
            continue
    return None


def _from_dateutil(value: str) -> datetime | None:
    """dateutil's reading of the value, if it names a whole day.

    dateutil fills what is missing from a default date, so the value is read
    against two different defaults: if the day, month or year differ, the value
    lacked them, and a guessed day is no date at all.
    """
    try:
        with warnings.catch_warnings():
            # Unknown zone names are read as no zone (UTC, like any naive date).
            warnings.simplefilter("ignore", UnknownTimezoneWarning)
            readings = [
                dateutil_parser.parse(value, default=default, tzinfos=_ZONE_NAMES)
                for default in _DEFAULT_DAYS
            ]
    except (ValueError, OverflowError):
        return None
    return readings[0] if readings[0] == readings[1] else None


def _from_epoch(seconds: float) -> datetime | None:
    if seconds < _SMALLEST_EPOCH_SECONDS:
        return None
    if seconds > _LARGEST_EPOCH_SECONDS:
        seconds /= 1000
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
