"""Every bound the checker applies, in one place.

The checker talks to servers chosen by whoever types a domain; these limits
keep one check bounded in time and memory whatever those servers do.
"""

from __future__ import annotations

# Overall budget of one domain's check (seconds); `--timeout` overrides it.
DEFAULT_TIMEOUT = 10.0
# Domains checked at once by `mtasts check a b c ...`; `--concurrency` overrides it.
DEFAULT_CONCURRENCY = 20

# DNS
# A DNS query waits for its answer as long as the check's budget lasts; meanwhile it is
# sent again (same ID, same socket: a late answer to the first is still taken) after
# DNS_RETRANSMIT_FIRST seconds, then after twice as long each time, at most this long.
DNS_RETRANSMIT_FIRST = 1.0
DNS_RETRANSMIT_MAX = 4.0
MAX_CNAME_CHAIN = 8  # names followed from _mta-sts before we give up
MAX_TXT_RECORDS = 50  # TXT records looked at per name
MAX_TXT_LENGTH = 4096  # characters of one joined TXT record kept for the report
MAX_RUA_URIS = 10  # TLS-RPT rua entries checked and reported (more are ignored)
MAX_MX_HOSTS = 100  # MX hosts checked fully, best preference first (the rest: mx_not_checked)
MAX_MX_RECORDS = 1000  # MX records listed in the report as published (all are counted)
MAX_ADDRESSES_PER_HOST = 8  # addresses probed per MX host (IPv4 and IPv6 together)

# HTTPS policy fetch (RFC 8461 §3.3 suggests 64 KiB and one minute)
MAX_POLICY_BYTES = 64 * 1024
MAX_HTTP_HEADER_BYTES = 16 * 1024  # one status line, header line or chunk-size line
MAX_HTTP_HEADERS = 100  # header lines of the response
POLICY_RECEIVE_BUFFER = 128 * 1024  # socket receive buffer (TCP window) of the policy fetch
USER_AGENT = "mtasts-bot/{version} (MTA-STS checker; +https://github.com/mtasts-bot)"

# SMTP probe
SMTP_CONNECT_TIMEOUT = 5.0
SMTP_PROBE_TIMEOUT = 8.0  # one address, banner to handshake
SMTP_MAX_LINE = 2048  # one reply line (RFC 5321 allows 512)
SMTP_MAX_REPLY_LINES = 100  # lines of one multi-line reply
SMTP_RECEIVE_BUFFER = 64 * 1024  # socket receive buffer (TCP window) of a probe
SMTP_EHLO_NAME = "mtasts-check.invalid"
MAX_PROBES_IN_FLIGHT = 64  # SMTP connections open at once, across all checks (one check too)

# Certificates
CERT_EXPIRY_WARNING_DAYS = 14

# Pure parsers (domain input, records, policy body): bounds on work and report size
MAX_DOMAIN_INPUT = 2048  # characters of pasted text looked at when finding a domain
SHOWN_INPUT_CHARS = 80  # characters of untrusted text quoted in one message
MAX_FINDINGS_PER_CODE = 20  # findings of one code from one parse, then one "and N more"
