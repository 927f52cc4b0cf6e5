"""One domain's check: every independent step at once, bounded by one budget.

The dependency graph (each arrow one network round trip or more):

    TXT _mta-sts ───────────────────────────────┐
    A/AAAA mta-sts → HTTPS GET policy ──────────┼─→ usable policy? ─┐
    MX → A/AAAA of each MX ─────────────────────┴───────────────────┴─→ SMTP probes
    TXT _smtp._tls

Nothing waits for a step it does not need: the policy is fetched while the
TXT record is still being looked up, and the MX hosts' addresses are resolved
while the policy downloads. Each step stops at the shared deadline and reports
the finding of the step that was cut off.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import sys
import threading
import time

from bot.checker.certs import iso
from bot.checker.dns import Dns, within
from bot.checker.findings import cap_per_code, finding
from bot.checker.model import (
    DnsEvidence,
    Mode,
    Report,
)
from bot.checker.mx_step import alignment, run_mx_step
from bot.checker.names import record_name, tlsrpt_name
from bot.checker.policy_step import policy_cert_expiry, run_policy_step
from bot.checker.settings import Settings

# What a check needs only once its first answers are in: imported on a thread while
# those are awaited (`_preload`), so a one-shot `mtasts check` does not spend that time
# (~15 ms) before it sends its first query.
_LATER = (
    "bot.checker.txt_records",
    "bot.checker.fetch",
    "bot.checker.policy",
    "bot.checker.tls_step",
)
_preloading = threading.Lock()


def _preload() -> None:
    if all(name in sys.modules for name in _LATER) or not _preloading.acquire(blocking=False):
        return

    def work() -> None:
        for name in _LATER:
            importlib.import_module(name)

    threading.Thread(target=work, name="mtasts-preload", daemon=True).start()


async def check(domain: str, settings: Settings) -> Report:
    """Check `domain` (already normalised) and return its report. Never raises for
    anything a server or the network does; all of that becomes findings."""
    _preload()
    started = time.perf_counter()
    checked_at = iso(dt.datetime.now(dt.UTC))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.timeout
    dns = Dns(settings)

    txt_task = asyncio.ensure_future(within(dns.txt(record_name(domain)), deadline))
    rpt_task = asyncio.ensure_future(within(dns.txt(tlsrpt_name(domain)), deadline))
    policy_task = asyncio.ensure_future(run_policy_step(domain, dns, settings, deadline))
    mx_task = asyncio.ensure_future(run_mx_step(domain, dns, settings, deadline))
    try:
        txt, policy_step = await asyncio.gather(txt_task, policy_task)
        from bot.checker.tls_step import probe_all, tls_findings
        from bot.checker.txt_records import cut_txt, record_result, tlsrpt_result

        record, record_findings = record_result(domain, txt)
        usable = record is not None and record.id is not None and policy_step.usable
        mode: Mode | None = (
            policy_step.policy.mode if usable and policy_step.policy is not None else None
        )
        mx_step = await mx_task
        if usable and settings.smtp and mode is not None:
            await probe_all(mx_step.hosts, settings, deadline)
        rpt = await rpt_task
    finally:
        for task in (txt_task, rpt_task, policy_task, mx_task):
            task.cancel()

    report = Report(domain=domain, checked_at=checked_at, mode=mode, smtp_checked=settings.smtp)
    report.record = record
    report.policy = policy_step.policy
    report.fetch = policy_step.fetch.evidence if policy_step.fetch else None
    report.mx = mx_step.hosts
    report.dns = DnsEvidence(
        mta_sts_txt=[cut_txt(t) for t in txt.records],
        tlsrpt_txt=[cut_txt(t) for t in rpt.records],
        mx=mx_step.published,
        mx_total=mx_step.total,
    )
    findings = report.findings
    findings += record_findings
    # Without a valid record the policy is not in effect; its fetch failures are noise
    # (the record is the thing to fix), but a body that was fetched is still checked.
    policy_relevant = (record is not None and record.id is not None) or (
        policy_step.policy is not None
    )
    if policy_relevant:
        findings += policy_step.findings
    if usable and mode == "testing":
        findings.append(
            finding(
                "mode_testing",
                domain,
                "The policy is in testing mode: senders report TLS failures (to your TLS-RPT "
                "address) but still deliver mail without TLS protection.",
                "When the reports show no failures for a few weeks, change `mode: testing` "
                "to `mode: enforce` in the policy file, then publish a new `id` in the TXT record.",
            )
        )
    elif usable and mode == "none":
        findings.append(
            finding(
                "mode_none",
                domain,
                "The policy is in mode none: MTA-STS protection is withdrawn, and senders "
                "deliver as if there were no policy.",
                "If this is not a deliberate withdrawal (RFC 8461 §8.3), set `mode: testing` or "
                "`mode: enforce` and publish a new `id`.",
            )
        )
    findings += mx_step.findings
    findings += alignment(domain, mx_step, policy_step.policy, usable, mode)
    if usable and settings.smtp and mode is not None:
        findings += tls_findings(mx_step.hosts, mode, settings)
    if policy_relevant:
        findings += policy_cert_expiry(policy_step)
    report.tlsrpt, rpt_findings = tlsrpt_result(domain, rpt)
    findings += rpt_findings
    report.findings = cap_per_code(findings, domain)
    report.duration_ms = (time.perf_counter() - started) * 1000
    return report
