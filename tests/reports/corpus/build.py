"""Builds the TLS-RPT test corpus next to this file (deterministic: same bytes every run).

    .venv/bin/python tests/reports/corpus/build.py

`rfc8460-example.json` is the RFC's own example (§4.3, with its additional-information
URL on one line) and is written by hand; everything else is made here, in the shapes
real senders use (bot/testbed/reports.py) and the shapes people share by mistake.
tests/reports/test_corpus.py says what each file must give.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import io
import json
import struct
import zipfile
import zlib
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from bot.testbed.reports import (
    Failure,
    google_file_name,
    google_shape,
    gzipped,
    microsoft_shape,
    policy_lines,
    rfc_shape,
)

HERE = Path(__file__).resolve().parent
DAY = dt.date(2026, 12, 4)
DOMAIN = "company-y.example"
STAMP = (2026, 12, 5, 0, 0, 0)  # zip entry times


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2) + "\n").encode()


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name, STAMP), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


DMARC = """<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <report_metadata>
    <org_name>google.com</org_name>
    <email>noreply-dmarc-support@google.com</email>
    <report_id>1234567890</report_id>
    <date_range><begin>1764806400</begin><end>1764892799</end></date_range>
  </report_metadata>
  <policy_published>
    <domain>company-y.example</domain><adkim>r</adkim><aspf>r</aspf><p>none</p>
  </policy_published>
  <record>
    <row><source_ip>192.0.2.1</source_ip><count>2</count></row>
  </record>
</feedback>
"""


def files() -> dict[str, bytes]:
    failing = [
        Failure("certificate-expired", f"mx2.{DOMAIN}", 41, receiving_ip="203.0.113.12"),
        Failure("certificate-expired", f"mx2.{DOMAIN}", 9, receiving_ip="203.0.113.12",
                sending_ip="192.0.2.77"),
        Failure("starttls-not-supported", f"mx1.{DOMAIN}", 3, receiving_ip="203.0.113.11"),
    ]  # fmt: skip
    out: dict[str, bytes] = {}
    out["google-clean.json.gz"] = gzipped(google_shape(DOMAIN, successes=4210, day=DAY))
    out["google-failures.json"] = _json(google_shape(DOMAIN, failing, successes=3900, day=DAY))
    out["microsoft-clean.json"] = _json(microsoft_shape(DOMAIN, successes=212, day=DAY))
    out["microsoft-failures.json.gz"] = gzipped(
        microsoft_shape(DOMAIN, failing[:1], successes=180, day=DAY)
    )

    missing = rfc_shape(DOMAIN, failing, day=DAY)
    del missing["contact-info"], missing["report-id"]
    policy = missing["policies"][0]
    del policy["policy"]["policy-string"], policy["policy"]["mx-host"]
    for detail in policy["failure-details"]:
        detail.pop("sending-mta-ip", None)
        detail.pop("receiving-ip", None)
    missing["policies"].append(
        {
            "policy": {"policy-type": "sts", "policy-domain": "other.example",
                       "policy-string": policy_lines("other.example")},
            "summary": {"total-successful-session-count": 10, "total-failure-session-count": 5},
        }
    )  # fmt: skip
    out["missing-fields.json"] = _json(missing)

    strings = rfc_shape(DOMAIN, failing, day=DAY)
    strings["Organization_Name"] = strings.pop("organization-name")  # another spelling
    strings["x-vendor-build"] = "mta-7.3"  # extra fields, at every level
    strings["policies"][0]["x-sampled"] = True
    strings["policies"][0]["summary"] = {
        "total-successful-session-count": "1,000",
        "total-failure-session-count": "53",
    }
    for detail in strings["policies"][0]["failure-details"]:
        detail["failed-session-count"] = str(detail["failed-session-count"])
        detail["x-tls-version"] = "TLSv1.2"
    out["counts-as-strings.json"] = _json(strings)

    out["no-policy-found.json"] = _json(
        {
            "organization-name": "Mail Provider",
            "date-range": {"start-datetime": "2026-12-04T00:00:00Z",
                           "end-datetime": "2026-12-05T00:00:00Z"},
            "contact-info": "tlsrpt@provider.example",
            "report-id": "npf-1",
            "policies": [{
                "policy": {"policy-type": "no-policy-found", "policy-domain": DOMAIN},
                "summary": {"total-successful-session-count": 70,
                            "total-failure-session-count": 2},
                "failure-details": [{"result-type": "starttls-not-supported",
                                     "sending-mta-ip": "192.0.2.5",
                                     "receiving-mx-hostname": f"mx1.{DOMAIN}",
                                     "failed-session-count": 2}],
            }],
        }
    )  # fmt: skip

    all_types = rfc_shape(
        DOMAIN,
        [
            Failure(kind, f"mx{n % 3 + 1}.{DOMAIN}", 20 - n, receiving_ip=f"203.0.113.{10 + n}")
            for n, kind in enumerate(
                [
                    "starttls-not-supported", "certificate-host-mismatch", "certificate-expired",
                    "certificate-not-trusted", "validation-failure", "tlsa-invalid",
                    "dnssec-invalid", "dane-required", "sts-policy-fetch-error",
                    "sts-policy-invalid", "sts-webpki-invalid", "certificate-revoked",
                ]
            )
        ],
        day=DAY,
    )  # fmt: skip
    out["all-result-types.json"] = _json(all_types)

    tlsa = rfc_shape(DOMAIN, [Failure("tlsa-invalid", f"mx1.{DOMAIN}", 6)], day=DAY)
    tlsa["policies"][0]["policy"].update(
        {"policy-type": "tlsa", "policy-string": [f"3 1 1 {'ab' * 32}"], "mx-host": f"mx1.{DOMAIN}"}
    )
    out["tlsa.json"] = _json(tlsa)

    week = []
    for n in range(7):
        day = DAY - dt.timedelta(days=6 - n)
        report = google_shape(DOMAIN, failing[:1] if n >= 5 else [], successes=600 + n, day=day)
        week.append((google_file_name(DOMAIN, day), gzipped(report)))
    out["week.zip"] = _zip(week)
    out["report.zip"] = _zip([("report.json", _json(rfc_shape(DOMAIN, failing, day=DAY)))])

    mail = EmailMessage()
    mail["From"] = "noreply-smtp-tls-reporting@google.com"
    mail["To"] = f"tlsrpt@{DOMAIN}"
    mail["Subject"] = f"Report Domain: {DOMAIN} Submitter: google.com Report-ID: <1>"
    mail["TLS-Report-Domain"] = DOMAIN
    mail["TLS-Report-Submitter"] = "google.com"
    mail.set_content("This is an aggregate TLS report from google.com")
    mail.add_attachment(
        gzipped(google_shape(DOMAIN, failing, day=DAY)),
        maintype="application",
        subtype="tlsrpt+gzip",
        filename=google_file_name(DOMAIN, DAY),
    )
    mail.set_boundary("mtasts-corpus-boundary")  # not random: the same bytes every run
    out["report.eml"] = bytes(mail).replace(b"\r\n", b"\n")

    # Bombs: far more than 10 MiB once decompressed, a few kilobytes as shared.
    bomb = b'{"organization-name": "' + b" " * (24 * 1024 * 1024) + b'"}'
    out["gzip-bomb.json.gz"] = gzip.compress(bomb, compresslevel=9, mtime=0)
    out["zip-bomb.zip"] = _zip([("report.json", bomb)])
    many = [(f"part-{n:02d}.json", b" " * (900 * 1024) + b"{}") for n in range(15)]
    out["many-parts-bomb.zip"] = _zip(many)
    nested = _json(rfc_shape(DOMAIN, day=DAY))
    for level in range(4):
        nested = _zip([(f"level-{level}.zip" if level else "report.json", nested)])
    out["nested-archives.zip"] = nested

    out["dmarc-aggregate.xml"] = DMARC.encode()
    out["dmarc-google.zip"] = _zip(
        [(f"google.com!{DOMAIN}!1764806400!1764892799.xml", DMARC.encode())]
    )
    out["screenshot.png"] = _png()
    full = _json(rfc_shape(DOMAIN, failing, day=DAY))
    out["cut-off.json"] = full[: len(full) // 2]
    out["truncated.json.gz"] = gzipped(rfc_shape(DOMAIN, failing, day=DAY))[:-40]
    out["check-output.json"] = _json({"domain": DOMAIN, "status": "pass", "findings": []})
    out["other-shape.json"] = _json({"name": "tls", "values": [1, 2, 3]})
    out["empty.json"] = b""
    out["base64-noise.bin"] = base64.b64decode("3q2+7wAAAAD+/wD/AAEC")
    return out


def main() -> None:
    for name, data in files().items():
        (HERE / name).write_bytes(data)
    print(f"wrote {len(files())} files to {HERE}")


if __name__ == "__main__":
    main()
