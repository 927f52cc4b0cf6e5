"""Reading inputs: bounded, and one sentence for whatever is not report JSON."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from email.message import EmailMessage
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.reports.limits import MAX_ARCHIVE_MEMBERS, MAX_PASTED_BYTES, MAX_REPORT_BYTES
from bot.reports.parse import parse_read
from bot.reports.reading import read_bytes, read_stream, read_text
from bot.testbed.reports import rfc_shape

REPORT = rfc_shape("example.com")
RAW = json.dumps(REPORT).encode()


def _one_problem(data: bytes, name: str = "f") -> str:
    read = read_bytes(data, name)
    assert read.documents == []
    assert len(read.problems) == 1
    return read.problems[0].reason


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _encrypted(data: bytes) -> bytes:
    """The zip marked as encrypted (bit 0 of the flags, local and central headers)."""
    out = bytearray(data)
    local, central = out.find(b"PK\x03\x04"), out.find(b"PK\x01\x02")
    out[local + 6] |= 0x1
    out[central + 8] |= 0x1
    return bytes(out)


def test_plain_gzip_zip_and_double_gzip_all_read_the_same_report() -> None:
    for data in (
        RAW,
        gzip.compress(RAW),
        _zip([("r.json", RAW)]),
        gzip.compress(gzip.compress(RAW)),
    ):
        read = read_bytes(data, "r")
        assert read.problems == []
        assert [d.value for d in read.documents] == [REPORT]


def test_concatenated_gzip_members_are_one_stream() -> None:
    half = len(RAW) // 2
    data = gzip.compress(RAW[:half]) + gzip.compress(RAW[half:])
    assert read_bytes(data, "r.json.gz").documents[0].value == REPORT


def test_a_zip_of_several_reports_reads_each_and_skips_mac_clutter() -> None:
    data = _zip(
        [
            ("a.json", RAW),
            ("b/b.json.gz", gzip.compress(RAW)),
            ("__MACOSX/._a.json", b"\x00\x05\x16\x07junk"),
            (".DS_Store", b"\x00\x00\x00\x01Bud1"),
        ]
    )
    read = read_bytes(data, "week.zip")
    assert read.problems == []
    assert [d.source for d in read.documents] == ["week.zip › a.json", "week.zip › b/b.json"]


def test_a_zip_with_more_files_than_read_says_how_many_were_left() -> None:
    data = _zip([(f"r{n}.json", RAW) for n in range(MAX_ARCHIVE_MEMBERS + 3)])
    read = read_bytes(data, "many.zip")
    assert len(read.documents) == MAX_ARCHIVE_MEMBERS
    assert len(read.problems) == 1
    assert "left 3 unread" in read.problems[0].reason


def test_password_protected_and_damaged_zips() -> None:
    assert "password-protected" in _one_problem(_encrypted(_zip([("r.json", RAW)])))
    assert "damaged .zip" in _one_problem(b"PK\x03\x04" + b"\x00" * 40)
    assert "empty .zip" in _one_problem(_zip([("dir/", b"")]))


def test_damaged_gzip() -> None:
    data = bytearray(gzip.compress(RAW))
    data[20:40] = b"\xff" * 20
    assert "damaged gzip" in _one_problem(bytes(data))


def test_a_file_over_the_cap_as_shared_is_not_read() -> None:
    reason = _one_problem(b" " * (MAX_REPORT_BYTES + 1), "huge.json")
    assert "huge.json is larger than 10 MiB as shared" in reason


def test_pasted_text_is_capped_at_one_mib() -> None:
    read = read_text(" " * (MAX_PASTED_BYTES + 1))
    assert "larger than 1 MiB" in read.problems[0].reason
    assert "share the report as a file" in read.problems[0].reason
    assert read_text(json.dumps(REPORT)).documents[0].value == REPORT


def test_standard_input_is_read_up_to_the_cap() -> None:
    assert read_stream(io.BytesIO(RAW), "standard input").documents[0].value == REPORT


def test_utf16_and_bom() -> None:
    for data in (b"\xef\xbb\xbf" + RAW, json.dumps(REPORT).encode("utf-16")):
        assert read_bytes(data, "r").documents[0].value == REPORT


def test_things_people_share_by_mistake() -> None:
    cases: dict[bytes, str] = {
        b"\xff\xd8\xff\xe0\x00\x10JFIF": "an image (JPEG)",
        b"%PDF-1.7\n": "a PDF document",
        b"RIFF\x00\x00\x00\x00WEBPVP8 ": "an image (WebP)",
        b"BZh91AY&SY": "a bzip2-compressed file",
        b"<!DOCTYPE html><html><body>sign in</body></html>": "an HTML page",
        b"<?xml version='1.0'?><rss></rss>": "an XML document",
        b"example.com is broken, help": "plain text, not JSON",
        b'"just a string"': "plain text, not JSON",
        b"42": "plain text",  # not an object or array: never parsed as JSON
        b"[1, 2]": "a JSON array that holds no TLS-RPT report",
        b"{}": "an empty JSON object",
        b'{"feedback": {"report_metadata": {}}}': "a DMARC report in JSON",
        b"[" * 100_000: "nested far too deeply",
        b'{"policies": [{"summary": {"total-successful-session-count": '
        + b"9" * 5000
        + b"}}]}": "a number too large",
    }
    for data, words in cases.items():
        parsed = parse_read(read_bytes(data, "x"))
        assert parsed.reports == []
        assert len(parsed.problems) == 1
        assert words in parsed.problems[0].reason, (data[:30], parsed.problems[0].reason)


def test_an_email_with_the_report_attached_and_one_without() -> None:
    mail = EmailMessage()
    mail["From"] = "reports@sender.example"
    mail["Subject"] = "Report Domain: example.com"
    mail.set_content("see attachment")
    mail.add_attachment(
        gzip.compress(RAW), maintype="application", subtype="tlsrpt+gzip", filename="r.json.gz"
    )
    read = read_bytes(bytes(mail), "report.eml")
    assert [d.value for d in read.documents] == [REPORT]
    assert read.documents[0].source == "report.eml › r.json"
    bare = EmailMessage()
    bare["From"] = "someone@example.com"
    bare["Subject"] = "hello"
    bare.set_content("no attachment here")
    assert "an e-mail with no report attached" in _one_problem(bytes(bare), "m.eml")


def _json_values() -> st.SearchStrategy[Any]:
    leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    keys = st.sampled_from(
        [
            "policies", "policy", "summary", "failure-details", "organization-name",
            "date-range", "start-datetime", "result-type", "failed-session-count",
            "total-successful-session-count", "policy-string", "mx-host", "x",
        ]
    )  # fmt: skip
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
        max_leaves=30,
    )


@given(_json_values())
def test_any_json_value_is_read_or_refused_in_one_sentence(value: Any) -> None:
    parsed = parse_read(read_text(json.dumps(value)))
    assert len(parsed.reports) + len(parsed.problems) >= 1
    for problem in parsed.problems:
        assert problem.reason.endswith(".")


@given(st.binary(max_size=3000))
def test_any_bytes_are_read_or_refused_never_raised(data: bytes) -> None:
    parsed = parse_read(read_bytes(data, "fuzz"))
    assert parsed.reports or parsed.problems


@given(st.binary(max_size=400))
def test_any_bytes_inside_gzip_and_zip_never_raise(data: bytes) -> None:
    for wrapped in (gzip.compress(data), _zip([("x.json", data)]), gzip.compress(data)[:-5]):
        parsed = parse_read(read_bytes(wrapped, "fuzz"))
        assert parsed.reports or parsed.problems
