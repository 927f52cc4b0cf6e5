"""checkdmarc's MTA-STS check, as its own `check_domains` runs it, for one domain.

Run with the peers' virtualenv (bench/.venv-peers/bin/python), never the
project's: `python bench/peer_checkdmarc.py NAMESERVER DOMAIN`. It calls the
parts of `checkdmarc.check_domains` that concern MTA-STS, in its order:
`check_mta_sts` (TXT, then the policy over HTTPS with `requests`), `check_mx`
with the policy's patterns and `check_mx_tls=True` (MX, then per host CNAME,
DNSSEC, A/AAAA, TLSA, PTR, and a STARTTLS session with `smtplib`), and
`check_smtp_tls_reporting`. Prints one JSON object.
"""

from __future__ import annotations

import json
import sys

from checkdmarc.mta_sts import check_mta_sts  # type: ignore[import-not-found]
from checkdmarc.smtp import check_mx  # type: ignore[import-not-found]
from checkdmarc.smtp_tls_reporting import (  # type: ignore[import-not-found]
    check_smtp_tls_reporting,
)


def main() -> None:
    nameserver, domain = sys.argv[1], sys.argv[2]
    ns = [nameserver]
    sts = check_mta_sts(domain, nameservers=ns)
    patterns = sts["policy"]["mx"] if sts.get("valid") else None
    mx = check_mx(domain, mta_sts_mx_patterns=patterns, check_mx_tls=True, nameservers=ns)
    rpt = check_smtp_tls_reporting(domain, nameservers=ns)
    hosts = mx.get("hosts", [])
    ok = bool(sts.get("valid")) and bool(hosts) and all(h.get("starttls") for h in hosts)
    print(json.dumps({"ok": ok, "mta_sts": sts, "mx": mx, "tlsrpt": rpt}, default=str))


if __name__ == "__main__":
    main()
