"""Modal views behind the result buttons: policy file, DNS records, MX & TLS.

Pure: a Report in, a `views.open`/`views.update` view dict out, within the
modal limits (100 blocks, title ≤ 24 characters) and with all data escaped.
"""

from __future__ import annotations

from typing import Any

from bot.checker.model import AddressProbe, CertInfo, MxHost, Report
from bot.slack.blocks.ids import VIEW_CALLBACK_DETAILS
from bot.slack.blocks.parts import (
    MAX_MODAL_BLOCKS,
    MAX_MODAL_TITLE,
    MAX_PRIVATE_METADATA,
    Block,
    block_chars,
    context,
    divider,
    plain_text,
    section,
)
from bot.slack.mrkdwn import code_block, escape, inline_code, prose

# Modals have no documented size cap beyond blocks; stay modest so they load fast.
MODAL_CHAR_BUDGET = 40_000


def _json_hint(domain: str) -> str:
    return f"`mtasts check {domain} --json`"


def _view(title: str, domain: str, blocks: list[Block]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": VIEW_CALLBACK_DETAILS,
        "title": plain_text(title, MAX_MODAL_TITLE),
        "close": plain_text("Close", 24),
        "private_metadata": domain[:MAX_PRIVATE_METADATA],
        "blocks": _fit(blocks, domain),
    }


def _fit(blocks: list[Block], domain: str) -> list[Block]:
    """Cut to the modal's block limit and character budget, saying so when cut."""
    out: list[Block] = []
    used = 0
    for i, block in enumerate(blocks):
        size = block_chars([block])
        if len(out) >= MAX_MODAL_BLOCKS - 1 or used + size > MODAL_CHAR_BUDGET:
            out.append(
                context(
                    f"…{len(blocks) - i} more sections not shown; "
                    f"run {escape(_json_hint(domain))} for everything."
                )
            )
            break
        out.append(block)
        used += size
    return out


def _domain_line(domain: str) -> Block:
    return section(f"*Domain:* {inline_code(domain, 253)}")


def _cert_lines(cert: CertInfo | None) -> list[str]:
    if cert is None:
        return ["*Certificate:* not seen"]
    lines = [
        f"*Subject:* {inline_code(cert.subject, 200) if cert.subject else '—'}",
        f"*Issuer:* {inline_code(cert.issuer, 200) if cert.issuer else '—'}",
    ]
    if cert.san:
        names = ", ".join(inline_code(n, 100) for n in cert.san[:10])
        more = f" and {len(cert.san) - 10} more" if len(cert.san) > 10 else ""
        lines.append(f"*Names (SAN):* {names}{more}")
    else:
        lines.append("*Names (SAN):* none")
    if cert.not_after:
        days = cert.days_left
        if days is not None and days < 0:
            lines.append(f"*Expired:* {inline_code(cert.not_after, 40)} :x:")
        else:
            left = f" ({days} days left)" if days is not None else ""
            lines.append(f"*Expires:* {inline_code(cert.not_after, 40)}{left}")
    return lines


# ---------------------------------------------------------------- policy file


def build_policy_view(report: Report) -> dict[str, Any]:
    """The policy body as fetched, with how it was fetched; or why there is none."""
    domain = report.domain
    blocks: list[Block] = [_domain_line(domain)]
    fetch = report.fetch
    if fetch is not None:
        lines = [f"*URL:* {inline_code(fetch.url, 300)}"]
        if fetch.addresses:
            lines.append(
                "*Addresses:* " + ", ".join(inline_code(a, 60) for a in fetch.addresses[:8])
            )
        lines.append(f"*HTTP status:* {fetch.status if fetch.status is not None else '—'}")
        ctype = inline_code(fetch.content_type, 200) if fetch.content_type else "—"
        lines.append(f"*Content type:* {ctype}")
        if fetch.location:
            lines.append(
                f"*Redirects to:* {inline_code(fetch.location, 300)} (not followed: RFC 8461 §3.3)"
            )
        if fetch.error:
            lines.append(f"*Problem:* {prose(fetch.error, 500)}")
        blocks.append(section("\n".join(lines)))
        blocks.append(
            section("*Certificate of the policy host*\n" + "\n".join(_cert_lines(fetch.cert)))
        )
    if report.policy is not None:
        blocks.append(divider())
        blocks.append(section("*Policy file, as fetched*"))
        blocks.append(
            section(code_block(report.policy.text, 2900, full_text_in=_json_hint(domain)))
        )
    else:
        blocks.append(section("*There is no policy to show.*\n" + _why_no_policy(report)))
    return _view("Policy file", domain, blocks)


def _why_no_policy(report: Report) -> str:
    reasons = [
        f"• {prose(f.message, 400)}"
        for f in report.sorted_findings()
        if f.code.startswith(("record_", "policy_"))
    ][:8]
    if reasons:
        return "\n".join(reasons)
    if report.record is None:
        name = inline_code("_mta-sts." + report.domain, 260)
        return f"There is no usable MTA-STS record at {name}, so senders never fetch a policy."

    return "The policy was not fetched."


# ---------------------------------------------------------------- DNS records


def _txt_list(title: str, records: list[str], domain: str) -> list[Block]:
    if not records:
        return [section(f"{title}\nNo TXT records.")]
    blocks = [section(f"{title} ({len(records)} TXT record{'s' if len(records) != 1 else ''})")]
    for txt in records[:20]:
        blocks.append(section(code_block(txt, 2900, full_text_in=_json_hint(domain))))
    if len(records) > 20:
        blocks.append(context(f"…and {len(records) - 20} more."))
    return blocks


def build_dns_view(report: Report) -> dict[str, Any]:
    """Every TXT at `_mta-sts` and `_smtp._tls`, the CNAME chain, MX records as published."""
    domain = report.domain
    dns = report.dns
    blocks: list[Block] = [_domain_line(domain)]
    blocks += _txt_list(f"*{inline_code('_mta-sts.' + domain, 260)}*", dns.mta_sts_txt, domain)
    cname = report.record.cname if report.record else []
    if cname:
        chain = " → ".join(inline_code(n, 120) for n in cname[:10])
        blocks.append(section(f"*CNAME chain:* {chain}"))
    blocks.append(divider())
    blocks += _txt_list(f"*{inline_code('_smtp._tls.' + domain, 260)}*", dns.tlsrpt_txt, domain)
    blocks.append(divider())
    if dns.mx:
        total = max(dns.mx_total, len(dns.mx))
        title = f"*MX records* ({total})"
        body = code_block("\n".join(dns.mx), 2800, full_text_in=_json_hint(domain))
        note = f"\n_{total - len(dns.mx)} more not kept._" if total > len(dns.mx) else ""
        blocks.append(section(f"{title}\n{body}{note}"))
    else:
        blocks.append(section("*MX records*\nNone published."))
    return _view("DNS records", domain, blocks)


# ---------------------------------------------------------------- MX & TLS


def _yes_no(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "no")


def _probe_text(probe: AddressProbe) -> str:
    lines = [f"*Address* {inline_code(probe.address, 60)}"]
    if not probe.reachable:
        why = prose(probe.error, 300) if probe.error else "no answer on port 25"
        lines.append(f"Unreachable: {why}" + (" (timed out)" if probe.timed_out else ""))
        return "\n".join(lines)
    lines.append(f"*STARTTLS:* {_yes_no(probe.starttls)}")
    if probe.version:
        lines.append(f"*Protocol:* {inline_code(probe.version, 30)}")
    if probe.cert_valid is not None:
        valid = "valid" if probe.cert_valid else "invalid"
        err = f" — {prose(probe.cert_error, 300)}" if probe.cert_error else ""
        lines.append(f"*Certificate:* {valid}{err}")
    if probe.cert is not None:
        lines += _cert_lines(probe.cert)
    if probe.banner:
        lines.append(f"*Banner:* {inline_code(probe.banner, 200)}")
    if probe.error:
        lines.append(f"*Problem:* {prose(probe.error, 300)}")
    if probe.timed_out:
        lines.append("_The probe timed out._")
    return "\n".join(lines)


def _mx_head(mx: MxHost, report: Report) -> str:
    head = f"*{inline_code(mx.host, 253)}* (preference {mx.preference})"
    if mx.matched_by:
        cover = f"covered by {inline_code(mx.matched_by, 253)}"
    elif report.policy is None or not report.policy.mx:
        cover = "no policy patterns to match"
    else:
        cover = "*not covered* by any policy `mx` pattern"
        if mx.near_miss:
            cover += f" — {prose(mx.near_miss, 300)}"
    addrs = ", ".join(inline_code(a, 60) for a in mx.addresses[:8]) or "none"
    if len(mx.addresses) > 8:
        addrs += f" and {len(mx.addresses) - 8} more"
    return f"{head}\n{cover}\n*Addresses:* {addrs}"


def build_mx_view(report: Report) -> dict[str, Any]:
    """Per MX host and per address: pattern, STARTTLS, protocol, certificate, banner."""
    domain = report.domain
    blocks: list[Block] = [_domain_line(domain)]
    if not report.mx:
        blocks.append(section("No MX hosts: this domain receives no mail."))
    for mx in report.mx:
        blocks.append(divider())
        blocks.append(section(_mx_head(mx, report)))
        if mx.tls is None:
            why = "SMTP probes were off" if not report.smtp_checked else "not probed"
            blocks.append(context(f"TLS {why}."))
        elif not mx.tls.probes:
            blocks.append(section(_probe_text(_probe_from_tls(mx))))
        else:
            for probe in mx.tls.probes:
                blocks.append(section(_probe_text(probe)))
    return _view("MX & TLS", domain, blocks)


def _probe_from_tls(mx: MxHost) -> AddressProbe:
    tls = mx.tls
    assert tls is not None
    return AddressProbe(
        address=tls.address or (mx.addresses[0] if mx.addresses else "—"),
        reachable=tls.reachable,
        starttls=tls.starttls,
        version=tls.version,
        cert_valid=tls.cert_valid,
        cert_error=tls.cert_error,
        cert=CertInfo(not_after=tls.not_after) if tls.not_after else None,
    )


# ---------------------------------------------------------------- loading / error


def build_loading_view(domain: str) -> dict[str, Any]:
    """Shown at once when a button is clicked, then replaced with views.update."""
    blocks = [
        section(f":hourglass_flowing_sand: Loading the details for {inline_code(domain, 253)} …")
    ]
    return _view("Loading…", domain, blocks)


def build_error_view(domain: str, message: str) -> dict[str, Any]:
    """Shown when the details could not be produced; `message` is raw and escaped here."""
    blocks = [
        section(
            f":warning: I couldn't load the details for {inline_code(domain, 253)}.\n"
            f"{prose(message, 2000)}"
        )
    ]
    return _view("Something went wrong", domain, blocks)
