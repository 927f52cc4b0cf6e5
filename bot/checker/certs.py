"""TLS contexts as a strict MTA-STS sender builds them, and certificate facts in words."""

from __future__ import annotations

import datetime as dt
import functools
import ssl
import warnings
from typing import TYPE_CHECKING, Any

from bot.checker.model import CertInfo

if TYPE_CHECKING:  # imported when first needed: it costs ~35 ms at start-up
    from cryptography import x509

# OpenSSL verify codes we explain in words (X509_V_ERR_*).
_EXPIRED = 10
_NOT_YET_VALID = 9
_SELF_SIGNED = 18
_SELF_SIGNED_IN_CHAIN = 19
_UNKNOWN_ISSUER = (2, 20, 21)
_HOSTNAME_MISMATCH = 62


@functools.lru_cache(maxsize=8)
def verifying_context(ca_file: str | None) -> ssl.SSLContext:
    """What a compliant sender uses: PKIX chain, DNS-ID only (no CN fallback), TLS >= 1.2.

    `ca_file`, when given, replaces the default trust store.
    """
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.hostname_checks_common_name = False
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


@functools.lru_cache(maxsize=1)
def inspecting_context() -> ssl.SSLContext:
    """Accepts any certificate: used only to read an invalid certificate's details."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


@functools.lru_cache(maxsize=1)
def any_protocol_context() -> ssl.SSLContext:
    """Accepts any certificate, TLS 1.0 and later, any cipher (`@SECLEVEL=0`): used only
    to learn what a server whose handshake failed does speak."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    return ctx


# Protocols compliant senders refuse (RFC 8996), as ssl names them, and in words.
OLD_PROTOCOLS = {"SSLv2": "SSL 2.0", "SSLv3": "SSL 3.0", "TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1"}


_SHORT = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "localityName": "L",
    "stateOrProvinceName": "ST",
}


def peer_cert_info(ssl_object: ssl.SSLObject) -> CertInfo | None:
    """What the peer's certificate says.

    After a validating handshake Python already decoded the certificate
    (`getpeercert()`), so cryptography is not needed (nor imported: ~35 ms of a
    one-shot CLI run); an unvalidated certificate is read from its DER form.
    """
    decoded = ssl_object.getpeercert()
    if decoded:
        return _from_decoded(decoded)
    return cert_info(ssl_object.getpeercert(binary_form=True))


def _from_decoded(cert: dict[str, Any], now: dt.datetime | None = None) -> CertInfo | None:
    try:
        not_after = dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), dt.UTC)
    except (KeyError, ValueError):
        return None
    now = now or dt.datetime.now(dt.UTC)
    san = [str(v) for k, v in cert.get("subjectAltName", ()) if k == "DNS"][:50]
    return CertInfo(
        subject=_decoded_name(cert.get("subject", ())),
        issuer=_decoded_name(cert.get("issuer", ())),
        san=san,
        not_after=iso(not_after),
        days_left=(not_after - now).days,
    )


def _decoded_name(rdns: Any) -> str:
    pairs = [(str(k), str(v)) for rdn in rdns for k, v in rdn]
    for key, value in pairs:
        if key == "commonName":
            return value[:200]
    # Like RFC 4514: most specific first.
    return ",".join(f"{_SHORT.get(k, k)}={v}" for k, v in reversed(pairs))[:200]


def cert_info(der: bytes | None, now: dt.datetime | None = None) -> CertInfo | None:
    """Subject, issuer, SAN and expiry of a DER certificate; None if it cannot be read."""
    if not der:
        return None
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    now = now or dt.datetime.now(dt.UTC)
    not_after = cert.not_valid_after_utc
    try:
        san_ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        san = [str(n) for n in san_ext.value.get_values_for_type(x509.DNSName)][:50]
    except (x509.ExtensionNotFound, ValueError):
        san = []
    return CertInfo(
        subject=_name(cert.subject),
        issuer=_name(cert.issuer),
        san=san,
        not_after=iso(not_after),
        days_left=(not_after - now).days,
    )


def _name(name: x509.Name) -> str:
    from cryptography.x509.oid import NameOID

    try:
        cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
        if cns:
            return str(cns[0].value)[:200]
        return name.rfc4514_string()[:200]
    except ValueError:
        return "(unreadable name)"


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def describe_verify_error(exc: ssl.SSLCertVerificationError, host: str) -> str:
    """A certificate failure in words: untrusted, expired, or wrong name."""
    code = getattr(exc, "verify_code", None)
    if code == _EXPIRED:
        return "the certificate has expired"
    if code == _NOT_YET_VALID:
        return "the certificate is not valid yet"
    if code in (_SELF_SIGNED, _SELF_SIGNED_IN_CHAIN):
        return "the certificate is self-signed, so no sender trusts it"
    if code in _UNKNOWN_ISSUER:
        return (
            "there is no chain to a trusted CA: the server may not send its intermediate "
            "certificate (browsers fetch it themselves, mail senders do not), or the issuer "
            "is not a public CA"
        )
    if code == _HOSTNAME_MISMATCH:
        return f"the certificate is not valid for {host} (no matching DNS name in its SAN)"
    message = getattr(exc, "verify_message", None) or str(exc)
    return f"the certificate does not validate ({message})"


def is_protocol_version_error(exc: BaseException) -> bool:
    """True when a handshake failed because the peer offers only old protocols."""
    text = f"{getattr(exc, 'reason', '')} {exc}".upper()
    return any(
        marker in text
        for marker in (
            "UNSUPPORTED_PROTOCOL",
            "PROTOCOL_VERSION",
            "WRONG_SSL_VERSION",
            "NO_PROTOCOLS_AVAILABLE",
            "VERSION_TOO_LOW",
        )
    )


def cert_facts(cert: CertInfo | None) -> str:
    """ " (it expired on …; it names …)": what the certificate says, for a failure message."""
    if cert is None:
        return ""
    facts = []
    if cert.not_after and cert.days_left is not None:
        verb = "expired on" if cert.days_left < 0 else "is valid until"
        facts.append(f"it {verb} {cert.not_after[:10]}")
    if cert.san:
        shown = ", ".join(cert.san[:4]) + (", …" if len(cert.san) > 4 else "")
        facts.append(f"it names {shown}")
    elif cert.subject:
        facts.append(f"it has no DNS names in its SAN, only the subject {cert.subject}")
    if cert.issuer:
        facts.append(f"issued by {cert.issuer}")
    return f" ({'; '.join(facts)})" if facts else ""
