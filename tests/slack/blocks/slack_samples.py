"""Sample reports and payload checks for the builder tests (reports built by hand)."""

from __future__ import annotations

from typing import Any

from bot.checker.findings import CODES, finding
from bot.checker.model import (
    AddressProbe,
    CertInfo,
    DnsEvidence,
    MxHost,
    Policy,
    PolicyFetch,
    Record,
    Report,
    Tls,
    TlsRpt,
)

# Everything that must never reach Slack unescaped.
EVIL = "<!channel> <@U123> <https://evil|mta-sts.example.com> & `tick` ```fence``` <!here>"
EVIL_MARKERS = ("<!channel>", "<@U123>", "<https://evil", "<!here>")

POLICY_TEXT = "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmax_age: 604800\n"


def good_report() -> Report:
    probe = AddressProbe(
        address="192.0.2.25",
        reachable=True,
        starttls=True,
        version="TLSv1.3",
        cert_valid=True,
        cert=CertInfo(
            subject="CN=mx1.example.com",
            issuer="CN=Example CA",
            san=["mx1.example.com"],
            not_after="2027-01-01T00:00:00Z",
            days_left=398,
        ),
        banner="220 mx1.example.com ESMTP",
    )
    return Report(
        domain="example.com",
        mode="enforce",
        record=Record(txt="v=STSv1; id=20240101", id="20240101"),
        policy=Policy("STSv1", "enforce", 604800, ["mx1.example.com"], POLICY_TEXT),
        mx=[
            MxHost(
                host="mx1.example.com",
                preference=10,
                matched_by="mx1.example.com",
                addresses=["192.0.2.25"],
                tls=Tls(
                    reachable=True,
                    starttls=True,
                    version="TLSv1.3",
                    cert_valid=True,
                    not_after="2027-01-01T00:00:00Z",
                    address="192.0.2.25",
                    probes=[probe],
                ),
            )
        ],
        tlsrpt=TlsRpt("v=TLSRPTv1; rua=mailto:tls@example.com", ["mailto:tls@example.com"]),
        findings=[],
        checked_at="2026-11-29T10:00:00Z",
        duration_ms=412.5,
        fetch=PolicyFetch(
            url="https://mta-sts.example.com/.well-known/mta-sts.txt",
            addresses=["192.0.2.80"],
            status=200,
            content_type="text/plain",
            cert=CertInfo(subject="CN=mta-sts.example.com", san=["mta-sts.example.com"]),
        ),
        dns=DnsEvidence(
            mta_sts_txt=["v=STSv1; id=20240101"],
            tlsrpt_txt=["v=TLSRPTv1; rua=mailto:tls@example.com"],
            mx=["10 mx1.example.com."],
            mx_total=1,
        ),
    )


def _evil_cert(n: int) -> CertInfo:
    return CertInfo(
        subject=f"CN={EVIL} {n}",
        issuer=EVIL,
        san=[EVIL, f"x{n}.example"] * 8,
        not_after=EVIL,
        days_left=-3,
    )


def hostile_report(mx_count: int = 3, findings_count: int = 0, text_size: int = 1) -> Report:
    """Every untrusted field holds markup; sizes can be blown up."""
    big = (EVIL + "\n") * text_size
    probes = [
        AddressProbe(
            address=f"{EVIL} {i}",
            reachable=i % 3 != 2,
            starttls=i % 3 == 0,
            version=EVIL,
            cert_valid=False,
            cert_error=big,
            cert=_evil_cert(i),
            banner=big,
            error=big,
            timed_out=i % 2 == 0,
        )
        for i in range(8)
    ]
    mx = [
        MxHost(
            host=f"{EVIL}.mx{i}",
            preference=i,
            matched_by=EVIL if i % 2 else None,
            addresses=[EVIL] * 10,
            near_miss=big,
            tls=None
            if i % 4 == 3
            else Tls(
                reachable=i % 5 != 4,
                starttls=i % 3 != 1,
                version=EVIL,
                cert_valid=i % 2 == 0,
                cert_error=big,
                not_after=EVIL,
                address=EVIL,
                probes=probes,
            ),
        )
        for i in range(mx_count)
    ]
    codes = list(CODES)
    findings = []
    for i in range(max(findings_count, 1)):
        code = codes[i % len(codes)]
        fix = None
        if i % 3 == 0:
            fix = f"Publish this policy:\n{big}"
        elif i % 3 == 1:
            fix = f"Publish this TXT record: v=STSv1; id={EVIL}"
        findings.append(finding(code, f"{EVIL} {i}", f"{big} message {i}", fix, mode="enforce"))
    return Report(
        domain="example.com",
        mode="enforce",
        record=Record(txt=big, id=EVIL, cname=[EVIL] * 12),
        policy=Policy(None, "enforce", 3600, [EVIL], big * 20),
        mx=mx,
        tlsrpt=TlsRpt(big, [EVIL] * 5),
        findings=findings[: max(findings_count, 1)],
        checked_at=EVIL,
        duration_ms=1500.0,
        fetch=PolicyFetch(
            url=EVIL,
            addresses=[EVIL] * 10,
            status=301,
            content_type=EVIL,
            location=big,
            cert=_evil_cert(0),
            error=big,
        ),
        dns=DnsEvidence(
            mta_sts_txt=[big] * 30,
            tlsrpt_txt=[big] * 30,
            mx=[f"10 {EVIL}."] * 50,
            mx_total=60,
        ),
    )


def walk_strings(node: Any, path: str = "$") -> list[tuple[str, str]]:
    """(path, string) for every string in a payload."""
    out: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            out += walk_strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += walk_strings(value, f"{path}[{i}]")
    elif isinstance(node, str):
        out.append((path, node))
    return out


def blocks_text(payload: dict[str, Any]) -> str:
    """Every string in a payload's blocks, one per line."""
    return "\n".join(s for _, s in walk_strings(payload["blocks"]))


def text_objects(node: Any) -> list[dict[str, Any]]:
    """Every text object ({"type": "mrkdwn"|"plain_text", "text": ...}) in a payload."""
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            out.append(node)
        for value in node.values():
            out += text_objects(value)
    elif isinstance(node, list):
        for value in node:
            out += text_objects(value)
    return out


def assert_no_markup_leak(payload: dict[str, Any]) -> None:
    """No raw `<`/`>` anywhere (our builders add none), mrkdwn is verbatim."""
    for path, text in walk_strings(payload):
        assert "<" not in text, (path, text[:200])
        assert ">" not in text, (path, text[:200])
        for marker in EVIL_MARKERS:
            assert marker not in text, (path, marker)
    for obj in text_objects(payload):
        if obj["type"] == "mrkdwn":
            assert obj.get("verbatim") is True, obj["text"][:100]
        assert obj["text"], "Slack rejects empty text"


def assert_message_limits(payload: dict[str, Any], max_chars: int = 12_000) -> None:
    """Block Kit limits of a message payload (and our total-size budget)."""
    import json

    assert isinstance(payload["text"], str)
    assert payload["text"].strip()
    blocks = payload["blocks"]
    assert 1 <= len(blocks) <= 50
    assert_block_limits(blocks)
    total = sum(len(s) for _, s in walk_strings(blocks))
    assert total < max_chars, total
    assert len(json.dumps(blocks, ensure_ascii=False)) < max_chars + 4000


def assert_block_limits(blocks: list[dict[str, Any]]) -> None:
    action_ids: list[str] = []
    block_ids: list[str] = []
    for block in blocks:
        kind = block["type"]
        if "block_id" in block:
            assert len(block["block_id"]) <= 255
            block_ids.append(block["block_id"])
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 1 <= len(block["text"]["text"]) <= 150
        elif kind == "section":
            assert 1 <= len(block["text"]["text"]) <= 3000
            fields = block.get("fields", [])
            assert len(fields) <= 10
            for f in fields:
                assert 1 <= len(f["text"]) <= 2000
        elif kind == "context":
            assert 1 <= len(block["elements"]) <= 10
            for e in block["elements"]:
                assert 1 <= len(e["text"]) <= 3000
        elif kind == "actions":
            assert 1 <= len(block["elements"]) <= 25
            for e in block["elements"]:
                assert 1 <= len(e["text"]["text"]) <= 75
                assert len(e["value"]) <= 2000
                assert len(e["action_id"]) <= 255
                action_ids.append(e["action_id"])
        else:
            assert kind == "divider", kind
    assert len(action_ids) == len(set(action_ids))
    assert len(block_ids) == len(set(block_ids))


def assert_modal_limits(view: dict[str, Any]) -> None:
    from bot.slack.blocks.ids import VIEW_CALLBACK_DETAILS

    assert view["type"] == "modal"
    assert view["callback_id"] == VIEW_CALLBACK_DETAILS
    assert view["title"]["type"] == "plain_text"
    assert 1 <= len(view["title"]["text"]) <= 24
    assert len(view["close"]["text"]) <= 24
    assert len(view.get("private_metadata", "")) <= 3000
    assert 1 <= len(view["blocks"]) <= 100
    assert_block_limits(view["blocks"])
