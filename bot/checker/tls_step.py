"""SMTP probes of every MX address, summed up per host, and their findings."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Coroutine
from typing import Any

from bot.checker import limits
from bot.checker.addresses import allowed
from bot.checker.certs import OLD_PROTOCOLS, cert_facts
from bot.checker.findings import consequence, finding
from bot.checker.model import (
    AddressProbe,
    Finding,
    Mode,
    MxHost,
    Tls,
)
from bot.checker.settings import Settings
from bot.checker.smtp import probe_address

# SMTP connections open at once across all checks of one event loop (the CLI's many
# domains, the Slack app's concurrent requests): limits.MAX_PROBES_IN_FLIGHT. One check
# may use them all, so that 100 MX hosts are probed in two rounds, not seven.
_IN_FLIGHT: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


# Polite closes still running after their probe's answer was used (strong references).
_CLOSING: set[asyncio.Task[None]] = set()


def _in_flight_gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    gate = _IN_FLIGHT.get(loop)
    if gate is None:
        gate = _IN_FLIGHT[loop] = asyncio.Semaphore(limits.MAX_PROBES_IN_FLIGHT)
    return gate


async def probe_all(hosts: list[MxHost], settings: Settings, deadline: float) -> None:
    everyone = _in_flight_gate()

    async def one(mx: MxHost, address: str) -> AddressProbe:
        await everyone.acquire()
        handed_off = False

        def close_later(closing: Coroutine[Any, Any, None]) -> None:
            # The answer is used now; the connection keeps its slot until it is closed,
            # so connections open at once stay bounded.
            nonlocal handed_off
            handed_off = True
            task = asyncio.ensure_future(closing)
            _CLOSING.add(task)
            task.add_done_callback(_closed(everyone))

        # One address gets SMTP_PROBE_TIMEOUT at most, so a stalled address cannot
        # hold a slot of the gates for the whole budget of a long check.
        own = asyncio.get_running_loop().time() + limits.SMTP_PROBE_TIMEOUT
        try:
            return await probe_address(
                mx.host,
                address,
                port=settings.smtp_port,
                ca_file=settings.ca_file,
                deadline=min(deadline, own),
                close_later=close_later,
            )
        except Exception as exc:  # a server found a path we did not foresee
            return AddressProbe(
                address=address,
                reachable=True,
                error=f"the probe failed unexpectedly ({type(exc).__name__}: {exc})"[:200],
            )
        finally:
            if not handed_off:
                everyone.release()

    jobs: list[tuple[MxHost, asyncio.Future[AddressProbe]]] = []
    for mx in hosts:
        for address in allowed(mx.addresses, settings.allow_private):
            jobs.append((mx, asyncio.ensure_future(one(mx, address))))
    try:
        await asyncio.gather(*(job for _, job in jobs))
    finally:
        for _, job in jobs:
            job.cancel()
    by_host: dict[str, list[AddressProbe]] = {}
    for mx, job in jobs:
        by_host.setdefault(mx.host, []).append(job.result())
    for mx in hosts:
        probes = by_host.get(mx.host)
        if probes:
            mx.tls = _summarise(probes)


def _closed(gate: asyncio.Semaphore) -> Callable[[asyncio.Task[None]], None]:
    def done(task: asyncio.Task[None]) -> None:
        _CLOSING.discard(task)
        gate.release()
        if not task.cancelled():
            task.exception()  # _close swallows what it expects; nothing else is raised

    return done


def _refused_smtp(p: AddressProbe) -> bool:
    """Connected, but the SMTP dialogue failed before STARTTLS could be asked for."""
    return p.reachable and not p.timed_out and p.starttls is None and p.error is not None


def _badness(p: AddressProbe) -> int:
    if not p.reachable:
        return -1
    if p.timed_out or _refused_smtp(p):
        return 1
    if p.starttls is False:
        return 6
    if p.error:
        return 5
    if p.cert_valid is False:
        return 4
    days_left = p.cert.days_left if p.cert is not None else None
    if days_left is not None and days_left < limits.CERT_EXPIRY_WARNING_DAYS:
        return 2
    return 0


def _summarise(probes: list[AddressProbe]) -> Tls:
    reachable = [p for p in probes if p.reachable]
    if not reachable:
        return Tls(reachable=False, probes=probes)
    worst = max(reachable, key=_badness)
    return Tls(
        reachable=True,
        starttls=worst.starttls,
        version=worst.version,
        cert_valid=worst.cert_valid,
        cert_error=worst.cert_error,
        not_after=worst.cert.not_after if worst.cert else None,
        address=worst.address,
        probes=probes,
    )


def _where(mx: MxHost, bad: list[AddressProbe], probes: list[AddressProbe]) -> str:
    """The subject of an MX finding: the host, plus addresses when not all agree."""
    if len(bad) == len(probes):
        return mx.host
    return f"{mx.host} ({', '.join(p.address for p in bad)})"


def tls_findings(hosts: list[MxHost], mode: Mode, settings: Settings) -> list[Finding]:
    out: list[Finding] = []
    effect = consequence(mode)
    for mx in hosts:
        if mx.tls is None:
            continue
        probes = mx.tls.probes
        if not mx.tls.reachable:
            timed = [p for p in probes if p.timed_out]
            if timed:
                out.append(_timeout_finding(mx, timed, probes, settings))
            else:
                errors = "; ".join(sorted({p.error or "" for p in probes}))
                out.append(
                    finding(
                        "mx_unreachable",
                        mx.host,
                        f"Port 25 of {mx.host} could not be reached on any address ({errors}). "
                        "Outbound port 25 is often blocked where the checker runs, so this "
                        "may say more about this network than about the MX.",
                        "Check from a host that can reach port 25 (or ask your mail provider); "
                        "make sure the MX accepts connections from the internet.",
                    )
                )
            continue
        timed = [p for p in probes if p.reachable and p.timed_out]
        if timed:
            out.append(_timeout_finding(mx, timed, probes, settings))
        refused = [p for p in probes if _refused_smtp(p)]
        if refused:
            out.append(_refused_finding(mx, refused, probes))
        no_tls = [p for p in probes if p.reachable and p.starttls is False]
        if no_tls:
            overrun = next((p for p in no_tls if p.failure == "ehlo_too_long"), None)
            what = (
                f"sends an EHLO reply past the read bounds ({overrun.error}), and STARTTLS "
                "is not among the lines read"
                if overrun is not None
                else "does not offer STARTTLS"
            )
            out.append(
                finding(
                    "mx_starttls_missing",
                    _where(mx, no_tls, probes),
                    f"{mx.host} {what}: {effect}.",
                    "Enable STARTTLS on the MX with a certificate from a public CA whose SAN "
                    f"includes {mx.host}"
                    + (f", and {_SHORT_EHLO}" if overrun is not None else "."),
                    mode=mode,
                )
            )
        old = [p for p in probes if p.old_protocol]
        if old:
            spoken = old[0].version or ""
            speaks = (
                f"speaks at most {OLD_PROTOCOLS[spoken]} ({spoken})"
                if spoken in OLD_PROTOCOLS
                else "offers only TLS versions older than 1.2"
            )
            out.append(
                finding(
                    "mx_tls_version_old",
                    _where(mx, old, probes),
                    f"{mx.host} {speaks}, so compliant senders, which require TLS 1.2 or "
                    f"later, cannot complete the handshake (RFC 8996): {effect}.",
                    "Enable TLS 1.2 and TLS 1.3 on the MX (and disable TLS 1.0/1.1).",
                    mode=mode,
                )
            )
        failed = [
            p
            for p in probes
            if p.reachable and p.starttls and p.error and not p.old_protocol and not p.timed_out
        ]
        if failed:
            overlong = failed[0].failure == "ehlo_too_long"
            what = (
                f"lists STARTTLS, but its EHLO reply goes past the read bounds "
                f"({failed[0].error}), so the STARTTLS dialogue could not go on"
                if overlong
                else f"offers STARTTLS but the handshake fails ({failed[0].error})"
            )
            out.append(
                finding(
                    "mx_tls_failed",
                    _where(mx, failed, probes),
                    f"{mx.host} {what}: {effect}.",
                    _SHORT_EHLO[0].upper() + _SHORT_EHLO[1:]
                    if overlong
                    else "Check the MX's TLS configuration (certificate and key loaded, "
                    "protocols and ciphers) with `openssl s_client -starttls smtp -connect "
                    f"{mx.host}:25 -servername {mx.host}`.",
                    mode=mode,
                )
            )
        bad_cert = [p for p in probes if p.cert_valid is False]
        if bad_cert:
            p = bad_cert[0]
            out.append(
                finding(
                    "mx_cert_invalid",
                    _where(mx, bad_cert, probes),
                    f"The certificate of {mx.host} fails validation: {p.cert_error}"
                    f"{cert_facts(p.cert)}; {effect}.",
                    f"Install a certificate from a public CA whose SAN includes {mx.host}, "
                    "with its full chain, and keep it renewed.",
                    mode=mode,
                )
            )
        expiring = [
            p
            for p in probes
            if p.cert_valid
            and p.cert is not None
            and p.cert.days_left is not None
            and p.cert.days_left < limits.CERT_EXPIRY_WARNING_DAYS
        ]
        if expiring:
            cert = expiring[0].cert
            assert cert is not None
            out.append(
                finding(
                    "cert_expiring",
                    _where(mx, expiring, probes),
                    f"The certificate of {mx.host} expires on {cert.not_after} "
                    f"({cert.days_left} days left); after that, {effect}.",
                    "Renew the certificate now (and check that automatic renewal works).",
                )
            )
    return out


_SHORT_EHLO = (
    "make the MX's EHLO reply fit common bounds: a few lines, each at most 512 bytes "
    "(RFC 5321 §4.5.3.1.5)."
)

# Failures of the SMTP dialogue that servers commonly give addresses they distrust.
_BLOCKLIST_LIKE = {"refused", "not_smtp"}


def _refused_finding(
    mx: MxHost, refused: list[AddressProbe], probes: list[AddressProbe]
) -> Finding:
    """mx_unreachable for an MX that took the connection but no SMTP session: with the
    blocklist hint only for a refusal (5xx greeting) or an answer that is not SMTP."""
    first = refused[0]
    if first.failure in _BLOCKLIST_LIKE:
        why = (
            "Servers often refuse checkers' addresses (blocklists), so this may say more "
            "about this network than about the MX"
        )
        fix = (
            "Check from a host your MX accepts mail from, or look at the MX's logs for why "
            "it refused the session."
        )
    elif first.failure == "busy":
        why = "The server is refusing sessions for now (a 4xx greeting); senders retry later"
        fix = "Check again later; if it persists, look at the MX's load and logs."
    else:
        why = "If senders meet the same, mail to it waits or goes to another MX"
        fix = "Look at the MX's logs for why the SMTP session ended."
    return finding(
        "mx_unreachable",
        _where(mx, refused, probes),
        f"{mx.host} accepted the connection on port 25 but did not offer an SMTP session: "
        f"{first.error}. {why}; its TLS could not be checked.",
        fix,
    )


def _timeout_finding(
    mx: MxHost, timed: list[AddressProbe], probes: list[AddressProbe], settings: Settings
) -> Finding:
    return finding(
        "mx_timeout",
        _where(mx, timed, probes),
        f"The SMTP probe of {mx.host} did not finish in time ({timed[0].error or 'no answer'}; "
        f"the checker waits up to {min(settings.timeout, limits.SMTP_PROBE_TIMEOUT):g} s, "
        "within the check's budget); its TLS could not be checked.",
        "Check again; if it persists, look for a slow greeting or STARTTLS on the MX.",
    )
