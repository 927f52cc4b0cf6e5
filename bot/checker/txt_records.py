"""The two TXT records of a check, `_mta-sts` and `_smtp._tls`: report fields and findings."""

from __future__ import annotations

import datetime as dt

from bot.checker import fixes, limits
from bot.checker.dns import Lookup
from bot.checker.findings import finding
from bot.checker.model import (
    Finding,
    Record,
    TlsRpt,
)
from bot.checker.names import record_name, tlsrpt_name
from bot.checker.record import is_sts_record, looks_like_sts_record, parse_sts_record
from bot.checker.tlsrpt import is_tlsrpt_record, parse_tlsrpt_record


def record_result(domain: str, txt: Lookup[str]) -> tuple[Record | None, list[Finding]]:
    name = record_name(domain)
    if txt.failed:
        return None, [
            finding(
                "record_lookup_failed",
                name,
                f"The TXT lookup of {name} failed: {txt.error}. Senders that see this "
                "treat the domain as having no policy, for now.",
                "Make sure the authoritative servers of the zone answer TXT queries for "
                f"{name} (try `dig TXT {name}`), then check again.",
            )
        ]
    sts = [t for t in txt.records if is_sts_record(t)]
    if not sts:
        # "v=STSv1 id=…" (no ";"): senders discard it, but it is the record someone meant,
        # so say what is wrong with it rather than that there is none.
        sts = [t for t in txt.records if looks_like_sts_record(t)][:1]
    if not sts:
        return None, [_missing(name, txt)]
    if len(sts) > 1:
        return None, [
            finding(
                "record_multiple",
                name,
                f"{len(sts)} TXT records at {name} begin with v=STSv1; with more than one, "
                "senders must assume there is no policy.",
                "Delete all but one of them, keeping one record with the current policy `id`.",
            )
        ]
    record_id, problems = parse_sts_record(sts[0], name)
    return Record(txt=cut_txt(sts[0]), id=record_id, cname=list(txt.cnames)), problems


def _missing(name: str, txt: Lookup[str]) -> Finding:
    new_record = fixes.sts_record(fixes.suggested_id(dt.datetime.now(dt.UTC)))
    if txt.cnames:
        target = txt.cnames[-1]
        where = "does not exist" if txt.outcome == "nxdomain" else "has no v=STSv1 TXT record"
        return finding(
            "record_missing",
            name,
            f"{name} is a CNAME to {' → '.join(txt.cnames)}, and {target} {where}, so "
            "senders find no record: MTA-STS is not in effect (often a provider that "
            "no longer hosts the delegated policy).",
            f"Restore the record at {target} (ask the provider it belongs to), or replace "
            f"the CNAME at {name} with a TXT record:\n{new_record}",
        )
    seen = f" (found {len(txt.records)} other TXT record(s))" if txt.records else ""
    return finding(
        "record_missing",
        name,
        f"There is no TXT record beginning v=STSv1 at {name}{seen}, so senders "
        "never look for a policy: MTA-STS is not in effect.",
        f"Publish a TXT record at {name}:\n{new_record}",
    )


def cut_txt(txt: str) -> str:
    """A TXT record as the report shows it: parsed whole, shown up to MAX_TXT_LENGTH."""
    if len(txt) <= limits.MAX_TXT_LENGTH:
        return txt
    return f"{txt[: limits.MAX_TXT_LENGTH]}… ({len(txt)} characters)"


def tlsrpt_result(domain: str, rpt: Lookup[str]) -> tuple[TlsRpt | None, list[Finding]]:
    name = tlsrpt_name(domain)
    fix = f"Publish a TXT record at {name}:\n{fixes.tlsrpt_record(domain)}"
    if rpt.failed:
        return None, [
            finding(
                "tlsrpt_lookup_failed",
                name,
                f"The TLS-RPT lookup of {name} failed: {rpt.error}.",
                f"Make sure the zone's servers answer TXT queries for {name}.",
            )
        ]
    records = [t for t in rpt.records if is_tlsrpt_record(t)]
    if not records:
        return None, [
            finding(
                "tlsrpt_missing",
                name,
                f"There is no TLS-RPT record at {name}: when senders fail to deliver over TLS "
                "(or refuse to, under your policy), nobody tells you.",
                fix,
            )
        ]
    if len(records) > 1:
        return None, [
            finding(
                "tlsrpt_multiple",
                name,
                f"{len(records)} TXT records at {name} begin with v=TLSRPTv1; reporters then "
                "ignore them all, so you get no reports.",
                "Merge them into one record (several rua URIs go in one comma-separated rua=).",
            )
        ]
    rua, problems = parse_tlsrpt_record(records[0], name)
    return TlsRpt(txt=cut_txt(records[0]), rua=rua), problems
