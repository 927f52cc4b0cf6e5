"""What each testbed server does, as plain data.

A scenario is built from these: DNS records and faults, the policy host's
HTTP behaviour and certificate, and each MX's SMTP behaviour. The servers in
this package read them; nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# How a leaf certificate is made (see pki.py).
CertKind = Literal[
    "valid",  # issued by the testbed CA for the host name
    "expired",  # not_after in the past
    "expiring",  # valid, 7 days left (cert_expiring)
    "wrong_name",  # valid chain, but for another name
    "untrusted",  # issued by a second CA that is not in ca_file
    "self_signed",  # signs itself
    "cn_only",  # the name only in the subject CN, no SAN
]

RrType = Literal["A", "AAAA", "TXT", "MX", "CNAME"]
# "lose_first": the first query of a name and type gets no answer (a lost packet), later
# ones do; "lose_retries": only the first query is answered (after any delay).
FaultKind = Literal["servfail", "refused", "drop", "lose_first", "lose_retries", "truncate"]


@dataclass(frozen=True, slots=True)
class Rr:
    """One DNS record. TXT values are a tuple of strings (one TXT record, several strings);
    MX values are "PREFERENCE HOST" ("0 ." is a null MX); others are text."""

    name: str
    type: RrType
    value: str | tuple[str, ...]
    ttl: int = 300


@dataclass(frozen=True, slots=True)
class DnsFault:
    """A fault for queries of `name` (and of `qtypes` only, when given; empty means all)."""

    name: str
    kind: FaultKind | None = None  # None: answer normally (only the delay applies)
    qtypes: frozenset[str] = frozenset()
    delay: float = 0.0  # seconds before answering


Framing = Literal["length", "close", "chunked"]


@dataclass(frozen=True, slots=True)
class HttpBehaviour:
    """What the policy host answers to GET /.well-known/mta-sts.txt."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = "text/plain"  # None: no Content-Type header
    location: str | None = None  # Location header (redirects)
    framing: Framing = "length"  # Content-Length, close-delimited, or chunked
    endless: bool = False  # after the body, keep sending filler until the client goes
    drip: float = 0.0  # > 0: send the body one byte per `drip` seconds
    delay: float = 0.0  # seconds before the status line
    stall_after_headers: bool = False  # send the headers, then nothing, never close
    headers: tuple[tuple[str, str], ...] = ()  # extra headers
    version: str = "HTTP/1.1"  # the status line's protocol, e.g. "HTTP/1.0"


@dataclass(frozen=True, slots=True)
class PolicyHost:
    """The host `mta-sts.<domain>`: its address, certificate and HTTP behaviour."""

    http: HttpBehaviour = HttpBehaviour()
    cert: CertKind = "valid"
    resolvable: bool = True  # False: no A/AAAA record (NXDOMAIN)
    listening: bool = True  # False: the address refuses connections
    tls_abort: bool = False  # accept TCP, read the ClientHello, close (no TLS at all)


SmtpKind = Literal[
    "starttls",  # aiosmtpd, offers STARTTLS with the host's certificate
    "plain",  # aiosmtpd without STARTTLS
    "old_tls",  # STARTTLS, but TLS 1.0/1.1 only (a TLS 1.2+ client gets a protocol_version alert)
    "old_tls_close",  # the same, but a TLS 1.2+ client is refused by closing, with no alert
    "weak_cipher",  # TLS 1.2, but only a SHA-1 CBC cipher that default TLS clients refuse
    "refused",  # nothing listens on the address
    "stall",  # accepts, never sends a banner
    "banner_554",  # greets with 554 and closes
    "banner_421",  # greets with 421 (busy) and closes
    "hangup",  # accepts the connection and closes it at once, without a word
    "garbage",  # greets with bytes that are not SMTP
    "starttls_error",  # advertises STARTTLS, answers it with 454
    "drop_after_starttls",  # answers STARTTLS with 220, then closes
    "ehlo_many",  # a 60-line EHLO reply with STARTTLS in the middle; then healthy TLS
    "ehlo_too_many",  # an EHLO reply that never ends (more lines than any client reads)
    "ehlo_too_many_starttls",  # the same, with STARTTLS among its first lines
    "ehlo_long_line",  # an EHLO reply line of 8 KiB (within asyncio's default limit)
    "tls_stall",  # answers STARTTLS with 220, then never says a word of TLS
]


@dataclass(frozen=True, slots=True)
class Smtp:
    """An MX host's SMTP server."""

    kind: SmtpKind = "starttls"
    cert: CertKind = "valid"
    delay: float = 0.0  # seconds before each reply, the greeting included
    banner: str = ""  # raw kinds: the greeting's text (after the code), e.g. with escapes


@dataclass(frozen=True, slots=True)
class Mx:
    """One MX host of a scenario. `host` "." with preference 0 is a null MX."""

    host: str
    preference: int = 10
    smtp: Smtp = Smtp()
    resolvable: bool = True  # False: no A/AAAA record
    published: bool = True  # False: no MX record (the implicit MX: the domain's own A)
