"""The human summary of a report, for the terminal: readable at a glance.

Colour only when asked (a terminal, and NO_COLOR unset). Untrusted text from
DNS and policy files has its control characters made visible so it cannot
move the cursor or recolour the terminal.
"""

from __future__ import annotations

from bot.checker.model import Finding, MxHost, Report

_COLOURS = {
    "red": "\033[31m",
    "yellow": "\033[33m",
    "green": "\033[32m",
    "dim": "\033[2m",
    "bold": "\033[1m",
}
_RESET = "\033[0m"

_STATUS = {"pass": ("PASS", "green"), "warn": ("WARN", "yellow"), "fail": ("FAIL", "red")}
_SEVERITY = {"error": ("error", "red"), "warning": ("warning", "yellow"), "info": ("info", "dim")}


def clean(text: str) -> str:
    """Make control characters visible (keeps newlines and tabs)."""
    return "".join(
        ch if ch in "\n\t" or (ch.isprintable() and ch != "\x1b") else f"\\x{ord(ch):02x}"
        for ch in text
    )


class _Paint:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, *styles: str) -> str:
        if not self.colour or not styles:
            return text
        return "".join(_COLOURS[s] for s in styles) + text + _RESET


def render(report: Report, *, colour: bool = False) -> str:
    paint = _Paint(colour)
    label, tint = _STATUS[report.status]
    lines: list[str] = []
    mode = report.mode or "no policy in effect"
    lines.append(
        f"{paint(label, 'bold', tint)}  {paint(report.domain, 'bold')}  mode: {mode}"
        + paint(f"   ({report.duration_ms / 1000:.2f} s)", "dim")
    )
    if report.record is not None:
        rec_id = report.record.id or "invalid"
        via = f" via CNAME {' → '.join(report.record.cname)}" if report.record.cname else ""
        lines.append(f"  record   id={clean(rec_id)}{clean(via)}")
    else:
        lines.append("  record   none usable")
    if report.policy is not None:
        p = report.policy
        age = f"{p.max_age} s ({p.max_age / 86400:.1f} days)" if p.max_age is not None else "?"
        mx = ", ".join(p.mx) or "none"
        lines.append(f"  policy   mode={p.mode or '?'} max_age={age} mx: {clean(mx)}")
    elif report.fetch is not None:
        lines.append(f"  policy   not fetched ({clean(report.fetch.error or 'see findings')})")
    if report.tlsrpt is not None:
        lines.append(f"  tls-rpt  {clean(', '.join(report.tlsrpt.rua) or 'no usable rua')}")
    else:
        lines.append("  tls-rpt  none")
    if report.mx:
        lines.append("")
        lines.append(_mx_table(report.mx, paint))
    findings = report.sorted_findings()
    if findings:
        lines.append("")
        for f in findings:
            lines.extend(_finding(f, paint))
    else:
        lines.append("")
        lines.append("  No problems found.")
    return "\n".join(lines)


def _mx_table(hosts: list[MxHost], paint: _Paint) -> str:
    rows = [("MX", "pref", "covered by", "STARTTLS", "TLS", "certificate")]
    for mx in hosts:
        tls = mx.tls
        if tls is None:
            starttls, version, cert = "not probed", "", ""
        elif not tls.reachable:
            starttls, version, cert = "unreachable", "", ""
        else:
            starttls = {True: "yes", False: "NO", None: "?"}[tls.starttls]
            version = tls.version or ""
            if tls.cert_valid:
                cert = f"valid, until {(tls.not_after or '?')[:10]}"
            elif tls.cert_valid is False:
                cert = f"INVALID: {tls.cert_error or ''}"
            else:
                cert = ""
        rows.append(
            (
                clean(mx.host),
                str(mx.preference),
                clean(mx.matched_by or "NOT COVERED"),
                starttls,
                version,
                clean(cert),
            )
        )
    widths = [min(40, max(len(r[i]) for r in rows)) for i in range(len(rows[0]) - 1)]
    out = []
    for n, row in enumerate(rows):
        cells = [row[i].ljust(widths[i]) for i in range(len(widths))] + [row[-1]]
        line = "  " + "  ".join(cells)
        out.append(paint(line, "dim") if n == 0 else line)
    return "\n".join(out)


def _finding(f: Finding, paint: _Paint) -> list[str]:
    label, tint = _SEVERITY[f.severity]
    head = f"  {paint(label.upper().ljust(7), tint)} {f.code}  {clean(f.subject)}"
    lines = [head, f"          {clean(f.message)}"]
    if f.fix:
        fix_lines = clean(f.fix).splitlines()
        lines.append(f"          fix: {fix_lines[0]}")
        lines.extend(f"               {line}" for line in fix_lines[1:])
    return lines
