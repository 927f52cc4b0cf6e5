"""The names and the URL that MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) use."""

from __future__ import annotations

POLICY_PATH = "/.well-known/mta-sts.txt"


def record_name(domain: str) -> str:
    """Where the `v=STSv1` TXT record lives (RFC 8461 §3.1)."""
    return f"_mta-sts.{domain}"


def policy_host(domain: str) -> str:
    """The host that serves the policy (RFC 8461 §3.3)."""
    return f"mta-sts.{domain}"


def policy_url(domain: str, port: int = 443) -> str:
    netloc = policy_host(domain) + ("" if port == 443 else f":{port}")
    return f"https://{netloc}{POLICY_PATH}"


def tlsrpt_name(domain: str) -> str:
    """Where the `v=TLSRPTv1` TXT record lives (RFC 8460 §3)."""
    return f"_smtp._tls.{domain}"
