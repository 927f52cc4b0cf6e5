"""From bytes or text to report JSON: bounded decompression, and one sentence for the rest.

A shared file or pasted text may be a report (`.json`), a compressed one
(`.json.gz`, a `.zip` holding some, an e-mail with the report attached), or
something else entirely: a DMARC report, a screenshot, a cut-off paste. What
is read is bounded: at most `MAX_REPORT_BYTES` after decompression for one
input, whatever the archive claims (a gzip or zip bomb stops there), and
archives nest at most `MAX_NESTING` deep. Anything that is not JSON gets one
sentence saying what it is and what is read instead.

Pure and synchronous; no I/O but `read_path`.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from bot.reports.limits import (
    MAX_ARCHIVE_MEMBERS,
    MAX_NESTING,
    MAX_PASTED_BYTES,
    MAX_REPORT_BYTES,
    MIB,
)

WHAT_I_READ = (
    "I read TLS-RPT reports: the .json or .json.gz files (or a .zip of them) that mail "
    "providers send to the rua address of your _smtp._tls record, or their JSON pasted as text"
)
SOURCE_SHOWN = 120  # characters of a file name quoted in a message

_GZIP = b"\x1f\x8b"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
# Magic numbers of things people share by mistake: (prefix, offset, what it is).
_BINARY: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG", 0, "an image (PNG)"),
    (b"\xff\xd8\xff", 0, "an image (JPEG)"),
    (b"GIF8", 0, "an image (GIF)"),
    (b"WEBP", 8, "an image (WebP)"),
    (b"ftypheic", 4, "an image (HEIC)"),
    (b"ftypavif", 4, "an image (AVIF)"),
    (b"BM", 0, "an image (BMP)"),
    (b"II*\x00", 0, "an image (TIFF)"),
    (b"MM\x00*", 0, "an image (TIFF)"),
    (b"%PDF", 0, "a PDF document"),
    (b"BZh", 0, "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", 0, "an xz-compressed file"),
    (b"(\xb5/\xfd", 0, "a zstd-compressed file"),
    (b"7z\xbc\xaf", 0, "a 7-Zip archive"),
    (b"Rar!", 0, "a RAR archive"),
)
_MIME_HEADER = re.compile(rb"\A(?:[!-9;-~]+:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*)+", re.ASCII)
_MAIL_HEADERS = (b"mime-version:", b"content-type:", b"received:", b"return-path:", b"from:")
_REPORT_TYPES = ("tlsrpt", "json", "gzip", "zip", "octet-stream")


@dataclass(frozen=True, slots=True)
class Document:
    """One JSON value read from an input, and where it came from."""

    source: str
    value: Any


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An input (or part of one) that is not report JSON, with one sentence for people."""

    source: str
    reason: str


@dataclass(slots=True)
class Read:
    """What one input held: JSON documents, and what could not be read (in input order)."""

    documents: list[Document] = field(default_factory=list)
    problems: list[Unreadable] = field(default_factory=list)

    def extend(self, other: Read) -> None:
        self.documents.extend(other.documents)
        self.problems.extend(other.problems)


class _TooBig(Exception):
    pass


@dataclass(slots=True)
class _Budget:
    """Bytes still allowed after decompression, shared by everything inside one input."""

    remaining: int

    def take(self, n: int) -> None:
        if n > self.remaining:
            raise _TooBig
        self.remaining -= n


def shown(source: str) -> str:
    """A file name as quoted in a message: cut, and without line breaks."""
    flat = " ".join(source.split())
    return flat if len(flat) <= SOURCE_SHOWN else flat[: SOURCE_SHOWN - 1] + "…"


def too_big_reason(source: str, what: str = "once decompressed") -> str:
    return (
        f"{shown(source)} is larger than {MAX_REPORT_BYTES // MIB} MiB {what}, so I stopped "
        "reading it there (a real TLS-RPT report is a few kilobytes); "
        "share the report files one by one"
    )


def read_bytes(data: bytes, source: str) -> Read:
    """Everything one input holds, within MAX_REPORT_BYTES after decompression."""
    if len(data) > MAX_REPORT_BYTES:
        return _problem(source, too_big_reason(source, "as shared"))
    return _read(data, source, _Budget(MAX_REPORT_BYTES), depth=0)


def read_text(text: str, source: str = "the pasted text") -> Read:
    """Text pasted into a message (at most MAX_PASTED_BYTES, UTF-8)."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) > MAX_PASTED_BYTES:
        reason = (
            f"{source} is larger than {MAX_PASTED_BYTES // MIB} MiB, more than I read from a "
            "message; share the report as a file instead"
        )
        return _problem(source, reason)
    return _read(data, source, _Budget(MAX_PASTED_BYTES), depth=0)


def read_path(path: str | Path, *, name: str | None = None) -> Read:
    """A file on disk, read at most MAX_REPORT_BYTES + 1 bytes (OSError is the caller's)."""
    source = name or str(path)
    with open(path, "rb") as handle:
        data = handle.read(MAX_REPORT_BYTES + 1)
    return read_bytes(data, source)


def read_stream(stream: io.BufferedIOBase | Any, source: str) -> Read:
    """A binary stream (standard input), read at most MAX_REPORT_BYTES + 1 bytes."""
    return read_bytes(stream.read(MAX_REPORT_BYTES + 1), source)


# -- what the bytes are ----------------------------------------------------------------


def _read(data: bytes, source: str, budget: _Budget, depth: int) -> Read:
    if data.startswith(_GZIP):
        return _nested(source, depth, lambda: _gunzip(data, source, budget, depth))
    if data.startswith(_ZIP):
        return _nested(source, depth, lambda: _unzip(data, source, budget, depth))
    for magic, offset, what in _BINARY:
        if data[offset : offset + len(magic)] == magic:
            return _problem(
                source, f"{shown(source)} is {what}, not a TLS-RPT report; {WHAT_I_READ}"
            )
    text = _decode(data)
    if text is None:
        return _problem(
            source,
            f"{shown(source)} is a binary file I can't read, not a TLS-RPT report; {WHAT_I_READ}",
        )
    return _read_text(text, data, source, budget, depth)


def _read_text(text: str, data: bytes, source: str, budget: _Budget, depth: int) -> Read:
    body = text.lstrip()
    if not body:
        return _problem(source, f"{shown(source)} is empty; {WHAT_I_READ}")
    if body[0] in "{[":
        return _json(body, source)
    if body[0] == "<":
        return _problem(source, _markup(body, source))
    if _is_mail(data):
        return _nested(source, depth, lambda: _mail(data, source, budget, depth))
    return _problem(
        source,
        f"{shown(source)} is plain text, not JSON, so not a TLS-RPT report; {WHAT_I_READ}",
    )


def _json(text: str, source: str) -> Read:
    try:
        value = json.loads(text)
    except RecursionError:
        return _problem(
            source,
            f"{shown(source)} is JSON nested far too deeply to be a TLS-RPT report; {WHAT_I_READ}",
        )
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
        cut = " — it looks cut off" if exc.pos >= len(text.rstrip()) - 1 else ""
        return _problem(
            source,
            f"{shown(source)} is not valid JSON ({where}){cut}, so I can't read it as a "
            f"TLS-RPT report; {WHAT_I_READ}",
        )
    except ValueError:  # e.g. an integer of more than 4,300 digits
        return _problem(
            source,
            f"{shown(source)} holds a number too large to be a session count, so I can't "
            f"read it as a TLS-RPT report; {WHAT_I_READ}",
        )
    return Read(documents=[Document(source, value)])


def _markup(text: str, source: str) -> str:
    head = text[:4096].lower()
    if "<feedback" in head and ("<report_metadata" in head or "<policy_published" in head):
        what = "a DMARC aggregate report (XML)"
    elif "<feedback" in head:
        what = "a DMARC report (XML)"
    elif head.startswith("<!doctype html") or "<html" in head[:512]:
        what = "an HTML page"
    else:
        what = "an XML document"
    return f"{shown(source)} is {what}, not a TLS-RPT report; {WHAT_I_READ}"


def _decode(data: bytes) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if "\x00" in text[:4096]:
        return None
    return text


def _is_mail(data: bytes) -> bool:
    head = data[:8192]
    match = _MIME_HEADER.match(head)
    if match is None:
        return False
    headers = match.group(0).lower()
    return any(h in headers for h in _MAIL_HEADERS)


# -- archives --------------------------------------------------------------------------


def _nested(source: str, depth: int, read: Any) -> Read:
    if depth >= MAX_NESTING:
        return _problem(
            source,
            f"{shown(source)} nests archives more than {MAX_NESTING} deep, so I stopped "
            f"there; {WHAT_I_READ}",
        )
    try:
        result: Read = read()
    except _TooBig:
        return _problem(source, too_big_reason(source))
    return result


def _gunzip(data: bytes, source: str, budget: _Budget, depth: int) -> Read:
    """Every gzip member, decompressed within the budget (a bomb stops at the cap)."""
    out = bytearray()
    pending = data
    try:
        while pending:
            inflate = zlib.decompressobj(wbits=31)
            while pending and not inflate.eof:
                chunk = inflate.decompress(pending, budget.remaining + 1)
                budget.take(len(chunk))
                out += chunk
                pending = inflate.unconsumed_tail
            if not inflate.eof:
                return _problem(
                    source,
                    f"{shown(source)} is a gzip file cut short (an incomplete download?), "
                    "so I can't read it; share the whole file",
                )
            pending = inflate.unused_data
            if not pending.startswith(_GZIP):  # trailing padding is ignored, as gzip does
                break
    except zlib.error:
        return _problem(
            source, f"{shown(source)} is a damaged gzip file, so I can't read it; {WHAT_I_READ}"
        )
    inner = source[:-3] if source.lower().endswith(".gz") else source
    return _read(bytes(out), inner, budget, depth + 1)


def _unzip(data: bytes, source: str, budget: _Budget, depth: int) -> Read:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        return _problem(
            source, f"{shown(source)} is a damaged .zip file, so I can't read it; {WHAT_I_READ}"
        )
    with archive:
        members = [
            info
            for info in archive.infolist()
            if not info.is_dir()
            and not info.filename.startswith("__MACOSX/")
            and not info.filename.rsplit("/", 1)[-1].startswith(".")
        ]
        if not members:
            return _problem(source, f"{shown(source)} is an empty .zip file; {WHAT_I_READ}")
        result = Read()
        for info in members[:MAX_ARCHIVE_MEMBERS]:
            name = f"{source} › {info.filename}"
            result.extend(_zip_member(archive, info, name, budget, depth))
        skipped = len(members) - MAX_ARCHIVE_MEMBERS
        if skipped > 0:
            result.extend(
                _problem(
                    source,
                    f"{shown(source)} holds {len(members)} files; I read the first "
                    f"{MAX_ARCHIVE_MEMBERS} and left {skipped} unread",
                )
            )
        return result


def _zip_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, budget: _Budget, depth: int
) -> Read:
    if info.flag_bits & 0x1:
        return _problem(
            name, f"{shown(name)} is password-protected, so I can't read it; {WHAT_I_READ}"
        )
    try:
        with archive.open(info) as member:
            # Read at most what the budget allows, whatever the header claims.
            data = member.read(budget.remaining + 1)
    except NotImplementedError:
        return _problem(
            name,
            f"{shown(name)} is compressed with a method I can't read (only stored and "
            f"deflated .zip entries); {WHAT_I_READ}",
        )
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
        return _problem(name, f"{shown(name)} is damaged inside the .zip; {WHAT_I_READ}")
    budget.take(len(data))
    return _read(data, name, budget, depth + 1)


def _mail(data: bytes, source: str, budget: _Budget, depth: int) -> Read:
    """An e-mail (a report as delivered): read its report-like attachments."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    result = Read()
    attachments = 0
    for part in message.walk() if isinstance(message, EmailMessage) else ():
        if part.is_multipart():
            continue
        filename = part.get_filename() or ""
        ctype = part.get_content_type()
        if not (filename or part.get_content_disposition() == "attachment"):
            continue
        if not (
            any(t in ctype for t in _REPORT_TYPES)
            or filename.lower().endswith((".json", ".gz", ".zip"))
        ):
            continue
        attachments += 1
        if attachments > MAX_ARCHIVE_MEMBERS:
            break
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        budget.take(len(payload))
        result.extend(_read(payload, f"{source} › {filename or ctype}", budget, depth + 1))
    if not result.documents and not result.problems:
        return _problem(
            source,
            f"{shown(source)} is an e-mail with no report attached; {WHAT_I_READ}",
        )
    return result


def _problem(source: str, reason: str) -> Read:
    return Read(problems=[Unreadable(source, sentence(reason))])


def sentence(text: str) -> str:
    """`text` ending with a full stop (its start is often a file name: left as is)."""
    text = text.strip()
    if not text:
        return text
    return text if text.endswith((".", "!", "?")) else text + "."
