"""What each TLS-RPT result type means, and its fix (RFC 8460 §4.3).

The full list of the RFC: TLS negotiation failures (§4.3.1), DANE failures
(§4.3.2.1) and MTA-STS failures (§4.3.2.2). A type outside it is shown as the
sender wrote it, with a generic explanation.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ResultType:
    name: str
    family: str  # "negotiation", "dane", "mta-sts", or "unknown"
    meaning: str  # what happened, in plain words
    fix: str
    ref: str


_CATALOGUE = (
    ResultType(
        "starttls-not-supported",
        "negotiation",
        "The receiving MX did not offer STARTTLS, so the sender could not encrypt the session.",
        "Turn on STARTTLS on that MX, with a certificate valid for its name; or, if the "
        "host should not receive mail, take it out of the MX records.",
        "RFC 8460 §4.3.1",
    ),
    ResultType(
        "certificate-host-mismatch",
        "negotiation",
        "The MX's certificate does not name the host the sender connected to: the MX "
        "host name was not among its DNS names (SAN).",
        "Install a certificate whose SAN includes the MX host name exactly as published "
        "in the MX record (a wildcard covers one label only).",
        "RFC 8460 §4.3.1",
    ),
    ResultType(
        "certificate-expired",
        "negotiation",
        "The MX's certificate had expired, so the sender refused (or reported) the session.",
        "Renew the certificate on that MX and make sure the mail server reloads it; "
        "automate renewal and watch expiry dates.",
        "RFC 8460 §4.3.1",
    ),
    ResultType(
        "certificate-not-trusted",
        "negotiation",
        "The MX's certificate did not chain to a CA the sender trusts: usually a missing "
        "intermediate certificate, a self-signed certificate or a private CA.",
        "Serve the full chain (the certificate and its intermediates) from a publicly trusted CA.",
        "RFC 8460 §4.3.1",
    ),
    ResultType(
        "validation-failure",
        "negotiation",
        "Another validation failure: often an MX that the policy's mx patterns do not "
        "cover, or a certificate problem of no other type; the reason code says more.",
        "Check that every MX host matches an mx line of the policy, and that its "
        "certificate validates (chain, name, dates).",
        "RFC 8460 §4.3.1",
    ),
    ResultType(
        "tlsa-invalid",
        "dane",
        "A DANE TLSA record of the MX was invalid, or matched no certificate the MX presented.",
        "Publish TLSA records that match the certificate (or key) the MX serves, and "
        "publish the new ones before changing certificates (RFC 7671 §8).",
        "RFC 8460 §4.3.2.1",
    ),
    ResultType(
        "dnssec-invalid",
        "dane",
        "DNSSEC validation of the MX's records failed, so the sender could not trust its "
        "TLSA records.",
        "Repair the DNSSEC chain: a DS record at the parent that matches the zone's keys, "
        "and signatures that have not expired.",
        "RFC 8460 §4.3.2.1",
    ),
    ResultType(
        "dane-required",
        "dane",
        "The sender requires DANE for this domain but found no usable TLSA records.",
        "Publish DNSSEC-signed TLSA records for every MX host.",
        "RFC 8460 §4.3.2.1",
    ),
    ResultType(
        "sts-policy-fetch-error",
        "mta-sts",
        "The sender could not fetch the MTA-STS policy from "
        "https://mta-sts.<domain>/.well-known/mta-sts.txt (no answer, an HTTP error, a "
        "redirect or a timeout).",
        "Serve the policy at that URL with status 200 and Content-Type text/plain over "
        "HTTPS, with no redirect, reachable from the whole internet.",
        "RFC 8460 §4.3.2.2",
    ),
    ResultType(
        "sts-policy-invalid",
        "mta-sts",
        "The sender fetched the MTA-STS policy but it was not valid.",
        "Fix the policy text: version: STSv1, a mode, one mx line per pattern and a "
        "max_age, one key per line; then publish a new id in the _mta-sts record.",
        "RFC 8460 §4.3.2.2",
    ),
    ResultType(
        "sts-webpki-invalid",
        "mta-sts",
        "The certificate of mta-sts.<domain> did not validate when the sender fetched the policy.",
        "Serve a valid, publicly trusted certificate for mta-sts.<domain>, with the full chain.",
        "RFC 8460 §4.3.2.2",
    ),
)

RESULT_TYPES: dict[str, ResultType] = {r.name: r for r in _CATALOGUE}


def result_type(name: str) -> ResultType:
    """The catalogue entry of `name`; an unknown type gets a generic one, named as given."""
    known = RESULT_TYPES.get(name)
    if known is not None:
        return known
    return ResultType(
        name,
        "unknown",
        "A result type RFC 8460 does not define, reported as is by the sender.",
        "Look it up in the sender's documentation (see the report's contact-info).",
        "RFC 8460 §4.3",
    )


def explain(name: str, domain: str | None) -> tuple[str, str]:
    """(meaning, fix) with `<domain>` filled in where the text names the policy host."""
    entry = result_type(name)
    where = domain or "your domain"
    return entry.meaning.replace("<domain>", where), entry.fix.replace("<domain>", where)
