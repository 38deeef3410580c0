"""Decoding: every text input becomes the right characters, or a clear error."""

import pytest

from articles.ingest.decode import decode_bytes
from articles.ingest.records import IngestError
from tests.ingest.corpora import CORPORA

BBC = CORPORA / "bbc"
LATIN1_ARTICLE = BBC / "sport" / "199.txt"


def test_utf8_text_decodes_as_it_is():
    text = "Zelensky spoke in Kyiv — “we will not give up” — on 24 February."
    assert decode_bytes(text.encode("utf-8"), "a.txt") == text


def test_a_utf8_byte_order_mark_is_dropped():
    assert decode_bytes(b"\xef\xbb\xbfHeadline\n\nBody.", "bom.txt") == "Headline\n\nBody."


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_utf16_and_utf32_with_a_byte_order_mark_decode(encoding):
    text = "Харків under fire\n\nThe city was shelled overnight."
    assert decode_bytes(text.encode(encoding), "wide.txt") == text


def test_the_latin1_bbc_article_keeps_its_pound_sign():
    raw = LATIN1_ARTICLE.read_bytes()
    assert b"\xa315.8m" in raw  # the file really is Latin-1, not UTF-8

    text = decode_bytes(raw, str(LATIN1_ARTICLE))

    assert text.startswith("Chelsea sack Mutu\n")
    assert "a £15.8m signing from Parma" in text
    assert "\ufffd" not in text


def test_every_bbc_article_decodes_without_replacement_characters():
    articles = sorted(BBC.glob("*/*.txt"))
    assert len(articles) == 2225

    for path in articles:
        text = decode_bytes(path.read_bytes(), str(path))
        assert "\ufffd" not in text, path
        assert text.strip(), path


def test_windows_1251_russian_text_decodes():
    text = (
        "Министерство обороны России заявило, что войска отошли от Херсона. "
        "Жители города вышли на площадь."
    ) * 5
    assert decode_bytes(text.encode("cp1251"), "ru.txt") == text


def test_utf8_with_stray_windows_1252_bytes_keeps_both_parts():
    # A file pasted together from two sources: UTF-8 text, then a Windows-1252 quote.
    raw = "Kyiv’s mayor said — again — ".encode() + b"\x93we are ready\x94 for winter."
    assert (
        decode_bytes(raw, "mixed.txt") == "Kyiv’s mayor said — again — “we are ready” for winter."
    )


def test_a_few_western_bytes_in_english_text_are_read_as_windows_1252():
    # Statistical detection guesses Japanese cp932 for text like this.
    raw = b"The contract is worth \x8015m, said the caf\xe9 owner. " + b"More text. " * 50
    text = decode_bytes(raw, "euro.txt")
    assert "worth €15m, said the café owner." in text


def test_windows_and_old_mac_newlines_become_unix_newlines():
    assert decode_bytes(b"Title\r\n\r\nBody one.\rBody two.\r\n", "crlf.txt") == (
        "Title\n\nBody one.\nBody two.\n"
    )


@pytest.mark.parametrize(
    "raw", [b"", b"   \n\t\r\n ", b"\xef\xbb\xbf", b"\xef\xbb\xbf  \n", "\n".encode("utf-16")]
)
def test_an_empty_or_blank_file_is_refused(raw):
    with pytest.raises(IngestError) as error:
        decode_bytes(raw, "inbox/empty.txt")
    assert str(error.value) == "inbox/empty.txt: empty file"


def test_a_file_with_nul_bytes_is_refused_as_binary():
    with pytest.raises(IngestError) as error:
        decode_bytes(b"Headline\x00\x00\x00body", "inbox/odd.txt")
    assert str(error.value).startswith("inbox/odd.txt: looks like a binary file, not text")


def test_a_compressed_archive_is_refused_as_binary():
    warc = CORPORA / "warc" / "resiliparse_warcfile.warc.gz"
    with pytest.raises(IngestError) as error:
        decode_bytes(warc.read_bytes(), str(warc))
    assert str(error.value).startswith(f"{warc}: looks like a binary file")


def test_control_characters_without_nul_are_refused_as_binary():
    raw = bytes(range(1, 32)) * 40 + b"some text"
    with pytest.raises(IngestError, match=r"^blob\.txt: looks like a binary file"):
        decode_bytes(raw, "blob.txt")


def test_every_error_is_one_line_naming_the_file():
    for raw in (b"", b"\x00\x01\x02", bytes(range(1, 32)) * 40):
        with pytest.raises(IngestError) as error:
            decode_bytes(raw, "data/in.txt")
        message = str(error.value)
        assert message.startswith("data/in.txt: ")
        assert "\n" not in message
