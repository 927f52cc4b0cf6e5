"""The testbed's certificates: one trusted CA, leaf certificates made on demand.

`Pki.context(host, kind)` gives a server `SSLContext` for a host name and a
certificate kind (valid, expired, expiring, wrong name, untrusted issuer,
self-signed, CN only); contexts are cached. ECDSA keys throughout, for speed.
"""

from __future__ import annotations

import datetime as dt
import os
import ssl
import tempfile
from collections.abc import Callable

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.testbed.behaviour import CertKind

EXPIRING_DAYS = 7


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class Pki:
    """A CA written to a temporary PEM file (the checker's `ca_file`) and leaf certificates."""

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="mtasts-testbed-")
        self.ca = trustme.CA(organization_name="mtasts testbed CA")
        self.other_ca = trustme.CA(organization_name="untrusted testbed CA")
        self.ca_file = os.path.join(self._dir.name, "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_file)
        self._contexts: dict[tuple[str, CertKind], ssl.SSLContext] = {}
        self._count = 0

    def close(self) -> None:
        self._dir.cleanup()

    def context(self, host: str, kind: CertKind = "valid") -> ssl.SSLContext:
        """A server context presenting a `kind` certificate for `host` (cached)."""
        key = (host.lower(), kind)
        ctx = self._contexts.get(key)
        if ctx is None:
            ctx = self._make_context(*key)
            self._contexts[key] = ctx
        return ctx

    def pem(self, host: str, kind: CertKind) -> tuple[bytes, bytes]:
        """(certificate chain PEM, private key PEM) for `host` and `kind`."""
        now = _now()
        if kind == "valid":
            leaf = self.ca.issue_cert(host)
        elif kind == "expired":
            leaf = self.ca.issue_cert(
                host,
                not_before=now - dt.timedelta(days=90),
                not_after=now - dt.timedelta(days=1),
            )
        elif kind == "expiring":
            leaf = self.ca.issue_cert(
                host,
                not_before=now - dt.timedelta(days=80),
                not_after=now + dt.timedelta(days=EXPIRING_DAYS),
            )
        elif kind == "wrong_name":
            leaf = self.ca.issue_cert(f"wrong-name.{host}", "www.testbed.invalid")
        elif kind == "untrusted":
            leaf = self.other_ca.issue_cert(host)
        elif kind == "self_signed":
            return self._build(host, san=True, self_signed=True)
        else:  # cn_only
            return self._build(host, san=False, self_signed=False)
        chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
        return chain, leaf.private_key_pem.bytes()

    def _build(self, host: str, *, san: bool, self_signed: bool) -> tuple[bytes, bytes]:
        """A leaf built with `cryptography` (what trustme cannot make)."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
        if self_signed:
            issuer, signer = subject, key
        else:
            ca_cert = x509.load_pem_x509_certificate(self.ca.cert_pem.bytes())
            ca_key = serialization.load_pem_private_key(self.ca.private_key_pem.bytes(), None)
            assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
            issuer, signer = ca_cert.subject, ca_key
        now = _now()
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False
            )
        if not self_signed:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
                critical=False,
            )
        cert = builder.sign(signer, hashes.SHA256())
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cert.public_bytes(serialization.Encoding.PEM), key_pem

    def _make_context(self, host: str, kind: CertKind) -> ssl.SSLContext:
        chain, key = self.pem(host, kind)
        self._count += 1
        cert_path = os.path.join(self._dir.name, f"{self._count}.crt")
        key_path = os.path.join(self._dir.name, f"{self._count}.key")
        with open(cert_path, "wb") as f:
            f.write(chain)
        with open(key_path, "wb") as f:
            f.write(key)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_path, key_path)
        os.unlink(cert_path)
        os.unlink(key_path)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """A default client context trusting only the testbed CA (for self-tests and tools)."""
        return ssl.create_default_context(cafile=self.ca_file)


def sni_context(
    pki: Pki,
    default_host: str,
    default_kind: CertKind,
    lookup: Callable[[str], CertKind | None],
) -> ssl.SSLContext:
    """A server context that picks the certificate by SNI name.

    `lookup(name)` says which kind of certificate a name gets (None: keep the
    default, which is a `default_kind` certificate for `default_host`).
    """
    chain, key = pki.pem(default_host, default_kind)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory(prefix="mtasts-sni-") as d:
        cert_path, key_path = os.path.join(d, "c.pem"), os.path.join(d, "k.pem")
        with open(cert_path, "wb") as f:
            f.write(chain)
        with open(key_path, "wb") as f:
            f.write(key)
        ctx.load_cert_chain(cert_path, key_path)

    def select(sslobj: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        if name is None:
            return
        kind = lookup(name.lower())
        if kind is not None:
            sslobj.context = pki.context(name, kind)

    ctx.sni_callback = select
    return ctx
