"""Report JSON to typed reports, leniently (RFC 8460 §4, and what senders really send).

Real reports differ from the RFC's example: Google omits `failure-details`
when nothing failed and `mx-host` altogether; Microsoft writes `mx-host` as a
list; some senders leave out `sending-mta-ip`, `receiving-ip`,
`policy-string` or `contact-info`, write counts as strings ("12"), use other
letter case or underscores in keys, or add fields of their own. All of that is
read; what was missing or odd is counted in `Notes`. Only JSON that is not a
report at all (a DMARC report in JSON, our own check output, anything without
`policies`) is refused, with one sentence saying what it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.reports.limits import MAX_COUNT, MAX_POLICY_LINES, MAX_TEXT
from bot.reports.model import FailureDetail, Notes, PolicyEntry, TlsRptReport
from bot.reports.reading import WHAT_I_READ, Read, Unreadable, sentence, shown

_REPORT_KEYS = ("organization-name", "date-range", "report-id", "contact-info")
_ALIASES = {
    "organisation-name": "organization-name",
    "failure-error-code": "failure-reason-code",
    "mx-hosts": "mx-host",
}


@dataclass(slots=True)
class Parsed:
    """Reports read from one or more inputs, what they left out, and what was not a report."""

    reports: list[TlsRptReport] = field(default_factory=list)
    notes: Notes = field(default_factory=Notes)
    problems: list[Unreadable] = field(default_factory=list)

    def extend(self, other: Parsed) -> None:
        self.reports.extend(other.reports)
        self.notes.merge(other.notes)
        self.problems.extend(other.problems)


def parse_read(read: Read) -> Parsed:
    """Every document of `read` as reports; documents that are not reports become problems."""
    parsed = Parsed(problems=list(read.problems))
    for document in read.documents:
        result = parse_value(document.value, document.source, parsed.notes)
        if isinstance(result, str):
            parsed.problems.append(Unreadable(document.source, result))
        else:
            parsed.reports.extend(result)
    return parsed


def parse_value(value: Any, source: str, notes: Notes) -> list[TlsRptReport] | str:
    """The reports in a JSON value (one report, or an array of them), or why there are none."""
    if isinstance(value, dict):
        obj = _normalised(value)
        if not _is_report(obj):
            return sentence(
                f"{shown(source)} is {_what_json(obj)}, not a TLS-RPT report; {WHAT_I_READ}"
            )
        return [_report(obj, source, notes)]
    if isinstance(value, list):
        objects = [_normalised(item) for item in value if isinstance(item, dict)]
        reports = [
            _report(obj, f"{source} [{n}]", notes)
            for n, obj in enumerate((o for o in objects if _is_report(o)), 1)
        ]
        if reports:
            others = len(value) - len(reports)
            notes.add(
                "array element that is not a report", "array elements that are not reports", others
            )
            return reports
        return sentence(
            f"{shown(source)} is a JSON array that holds no TLS-RPT report; {WHAT_I_READ}"
        )
    kind = {str: "a JSON string", bool: "a JSON boolean", type(None): "JSON null"}.get(
        type(value), "a JSON number"
    )
    return sentence(f"{shown(source)} is {kind}, not a TLS-RPT report; {WHAT_I_READ}")


# -- shape -----------------------------------------------------------------------------


def _key(name: str) -> str:
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    return _ALIASES.get(key, key)


def _normalised(obj: Mapping[Any, Any]) -> dict[str, Any]:
    """Keys lower-cased, `_` and spaces as `-`; the first of two spellings wins."""
    out: dict[str, Any] = {}
    for name, value in obj.items():
        if isinstance(name, str):
            out.setdefault(_key(name), value)
    return out


def _is_report(obj: Mapping[str, Any]) -> bool:
    if isinstance(obj.get("policies"), list):
        return True
    return sum(k in obj for k in _REPORT_KEYS) >= 2


def _what_json(obj: Mapping[str, Any]) -> str:
    keys = set(obj)
    if keys & {"feedback", "report-metadata", "policy-published"}:
        return "a DMARC report in JSON"
    if {"domain", "findings", "status"} <= keys:
        return "the JSON of an MTA-STS check (mtasts check --json)"
    if not keys:
        return "an empty JSON object"
    names = ", ".join(sorted(k[:40] for k in keys)[:5])
    more = f" and {len(keys) - 5} more" if len(keys) > 5 else ""
    return f"JSON with the fields {names}{more} but no policies"


# -- one report ------------------------------------------------------------------------


def _report(obj: dict[str, Any], source: str, notes: Notes) -> TlsRptReport:
    organization = _text(obj.get("organization-name"))
    contact = _text(obj.get("contact-info"))
    report_id = _text(obj.get("report-id"))
    for name, value in (
        ("organization-name", organization),
        ("contact-info", contact),
        ("report-id", report_id),
    ):
        if value is None:
            notes.missing("report", name)
    start, end = _date_range(obj.get("date-range"), notes)
    report = TlsRptReport(
        source=source,
        organization=organization,
        contact=contact,
        report_id=report_id,
        start=start,
        end=end,
    )
    policies = obj.get("policies")
    if not isinstance(policies, list) or not policies:
        notes.missing("report", "policies")
        return report
    for item in policies:
        if isinstance(item, dict):
            report.policies.append(_policy(_normalised(item), notes))
        else:
            notes.add(
                "policies entry that is not an object", "policies entries that are not objects"
            )
    return report


def _date_range(value: Any, notes: Notes) -> tuple[dt.datetime | None, dt.datetime | None]:
    if not isinstance(value, dict):
        notes.missing("report", "date-range")
        return None, None
    obj = _normalised(value)
    start = _datetime(obj.get("start-datetime"), notes)
    end = _datetime(obj.get("end-datetime"), notes)
    return start, end


def _datetime(value: Any, notes: Notes) -> dt.datetime | None:
    text = _text(value)
    if text is None:
        notes.missing("date-range", "a start or end", wheres="date-ranges")
        return None
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        notes.add("date that is not ISO 8601", "dates that are not ISO 8601")
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _policy(obj: dict[str, Any], notes: Notes) -> PolicyEntry:
    policy = obj.get("policy")
    spec = _normalised(policy) if isinstance(policy, dict) else {}
    if not spec:
        notes.missing("policies entry", "policy", wheres="policies entries")
    kind = (_text(spec.get("policy-type")) or "").lower()
    if not kind:
        notes.missing("policy", "policy-type", wheres="policies")
        kind = "unknown"
    domain = _host(spec.get("policy-domain"))
    if domain is None:
        notes.missing("policy", "policy-domain", wheres="policies")
    lines = _lines(spec.get("policy-string"))
    if lines is None and kind != "no-policy-found":
        notes.missing("policy", "policy-string", wheres="policies")
    mx_hosts = [h for h in (_host(v) for v in _list(spec.get("mx-host"))) if h]
    if not mx_hosts and kind == "sts":
        notes.missing("sts policy", "mx-host", wheres="sts policies")
    summary = obj.get("summary")
    totals = _normalised(summary) if isinstance(summary, dict) else {}
    if not totals:
        notes.missing("policy", "summary", wheres="policies")
    details = [
        _detail(_normalised(item), notes)
        for item in _list(obj.get("failure-details"))
        if isinstance(item, dict)
    ]
    successes = _count(totals.get("total-successful-session-count"), notes, "summary")
    failure_total = totals.get("total-failure-session-count")
    if totals:  # (a summary left out altogether is said above)
        for name in ("total-successful-session-count", "total-failure-session-count"):
            if totals.get(name) is None:
                notes.missing("policy summary", name, wheres="policy summaries")
    failures = _count(failure_total, notes, "summary")
    detailed = sum(d.count for d in details)
    if failure_total is None and details:
        failures = detailed  # the total left out: the details' sum stands in
    if failures and "failure-details" not in obj:
        notes.add(
            "policy with failures but no failure-details",
            "policies with failures but no failure-details",
        )
    return PolicyEntry(
        type=kind,
        domain=domain,
        policy_string=lines,
        mx_hosts=mx_hosts,
        successes=successes,
        failures=failures,
        details=details,
    )


def _detail(obj: dict[str, Any], notes: Notes) -> FailureDetail:
    result_type = (_text(obj.get("result-type")) or "").lower()
    if not result_type:
        notes.missing("failure detail", "result-type")
        result_type = "(no result-type)"
    detail = FailureDetail(
        result_type=result_type,
        count=_count(obj.get("failed-session-count"), notes, "failure detail"),
        mx_host=_host(obj.get("receiving-mx-hostname")),
        receiving_ip=_text(obj.get("receiving-ip")),
        sending_ip=_text(obj.get("sending-mta-ip")),
        helo=_text(obj.get("receiving-mx-helo")),
        reason_code=_text(obj.get("failure-reason-code")),
        additional=_text(obj.get("additional-information")),
    )
    for name, value in (
        ("receiving-mx-hostname", detail.mx_host),
        ("receiving-ip", detail.receiving_ip),
        ("sending-mta-ip", detail.sending_ip),
        ("failed-session-count", obj.get("failed-session-count")),
    ):
        if value is None:
            notes.missing("failure detail", name)
    return detail


# -- values ----------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A string field (numbers accepted, as senders write ids), cut to MAX_TEXT."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value[:MAX_TEXT] or None


def _host(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    return text.rstrip(".").lower() or None


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _lines(value: Any) -> list[str] | None:
    """policy-string: an array of lines (RFC 8460), or one string with line breaks."""
    if isinstance(value, str):
        items: Iterable[Any] = value.splitlines()
    elif isinstance(value, list):
        items = value
    else:
        return None
    lines = [t for t in (_text(v) for v in items) if t is not None]
    return lines[:MAX_POLICY_LINES] or None


def _count(value: Any, notes: Notes, where: str) -> int:
    """A session count: an integer, or a string or float holding one; else 0 (and a note)."""
    if value is None:
        return 0
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        digits = value.strip().replace(",", "").replace("_", "")
        if digits.isascii() and digits.isdigit() and len(digits) <= 30:
            number = int(digits)
            notes.add("session count written as text", "session counts written as text")
    if number is None:
        notes.add(
            f"{where} count that is not a number (read as 0)",
            f"{where} counts that are not numbers (read as 0)",
        )
        return 0
    if number < 0:
        notes.add("negative session count (read as 0)", "negative session counts (read as 0)")
        return 0
    if number > MAX_COUNT:
        notes.add(
            f"session count above {MAX_COUNT:,} (capped)",
            f"session counts above {MAX_COUNT:,} (capped)",
        )
        return MAX_COUNT
    return number
