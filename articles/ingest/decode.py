"""Bytes to text: find the encoding of an input and decode it.

UTF-8 is tried first (with or without a byte-order mark) because a valid UTF-8
decode is almost never a coincidence. Two cases statistical detection gets
wrong come next (``_decode_mixed_utf8``, ``_decode_mostly_ascii``); anything
else goes to charset-normalizer, limited to the encodings news text uses.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from articles.ingest.records import IngestError

# Byte-order marks that name their encoding outright. UTF-32 first: its
# little-endian mark begins with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Western European news in a legacy encoding is, in practice, Windows-1252: it is
# what "Latin-1" means on the web (WHATWG) and it agrees with ISO-8859-1 on every
# printable character.
_WESTERN = "cp1252"
# The encodings detection may choose from: those web pages and exports use (the
# WHATWG list, with Windows' variants of the CJK ones), less old Mac and DOS code
# pages. Left in, they win on short texts: short Russian in cp1251 comes back
# as Mac Cyrillic.
_NEWS_ENCODINGS = [
    *("utf_8", "utf_16", "utf_32"),
    *(f"cp{page}" for page in range(1250, 1259)),
    "cp874",
    *(f"iso8859_{part}" for part in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)),
    *("koi8_r", "koi8_u"),
    *("gb18030", "big5", "cp950", "euc_jp", "iso2022_jp", "shift_jis", "cp932"),
    *("euc_kr", "cp949"),
]
# Below this share of non-ASCII bytes charset-normalizer has too little evidence:
# a lone 0xA3 (a Latin-1 pound sign) comes back as Japanese cp932.
_FEW_NON_ASCII = 0.01
# Text has tabs and newlines; more than this share of other control characters
# means the bytes were never text.
_MAX_CONTROL_SHARE = 0.01
_NON_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # category Cc but \t-\r
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_NON_ASCII_BYTE = re.compile(rb"[\x80-\xff]")
# Valid UTF-8 characters per undecodable byte needed to call a file mixed UTF-8.
_MIN_UTF8_SHARE_WHEN_MIXED = 0.1


def decode_bytes(raw: bytes, origin: str) -> str:
    """Decode one input to text with ``\\n`` newlines.

    Raises IngestError naming ``origin`` for an empty file or one that is not text.
    """
    if not raw.strip():
        raise IngestError(f"{origin}: empty file")
    text = _decode(raw, origin)
    if _looks_binary(text):
        raise IngestError(f"{origin}: looks like a binary file, not text")
    text = normalise_newlines(text.removeprefix("\ufeff"))
    if not text.strip():
        raise IngestError(f"{origin}: empty file")
    return text


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode(raw: bytes, origin: str) -> str:
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return raw.decode(encoding, errors="replace")
    # A NUL byte never occurs in text without a UTF-16/32 mark (handled above).
    if b"\x00" in raw:
        raise IngestError(f"{origin}: looks like a binary file, not text (it has NUL bytes)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = _decode_mixed_utf8(raw) or _decode_mostly_ascii(raw)
    if text is not None:
        return text
    best = from_bytes(raw, cp_isolation=_NEWS_ENCODINGS).best()
    if best is None:
        raise IngestError(f"{origin}: looks like a binary file, not text (no text encoding fits)")
    return str(best)


def _decode_mixed_utf8(raw: bytes) -> str | None:
    """Text that is UTF-8 except for a few Windows-1252 bytes, decoded as both.

    Files pasted together from several sources often mix the two; decoding the
    whole file as either one garbles the other part.
    """
    decoded = raw.decode("utf-8", errors="replace")
    invalid = decoded.count("\ufffd")
    valid = len(_NON_ASCII.findall(decoded)) - invalid
    # A legacy-encoded file forms the odd valid UTF-8 pair by accident (Cyrillic
    # "Р«" is UTF-8 "Ы"); a real UTF-8 part has many.
    if valid < invalid * _MIN_UTF8_SHARE_WHEN_MIXED:
        return None
    return raw.decode("utf-8", errors=_CP1252_FALLBACK)


def _decode_mostly_ascii(raw: bytes) -> str | None:
    if len(_NON_ASCII_BYTE.findall(raw)) > len(raw) * _FEW_NON_ASCII:
        return None
    try:
        return raw.decode(_WESTERN)
    except UnicodeDecodeError:
        return None  # bytes cp1252 leaves undefined: let the detector decide


def _looks_binary(text: str) -> bool:
    return len(_NON_TEXT_CONTROL.findall(text)) > len(text) * _MAX_CONTROL_SHARE


def _cp1252_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    bad = error.object[error.start : error.end]
    return bad.decode(_WESTERN, errors="replace"), error.end


_CP1252_FALLBACK = "ingest-cp1252-fallback"
codecs.register_error(_CP1252_FALLBACK, _cp1252_fallback)
