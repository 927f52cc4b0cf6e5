"""Hostile text from DNS, policy files, SMTP, certificates and users never becomes markup.

The real app is driven over HTTP with the real checker against testbed domains
whose records are hostile: a `v=STSv1` TXT record and a TLS-RPT record full of
`<!channel>`, `<@U…>`, `<!subteam^…>`, disguised links and code fences, a
policy body with the same in keys, values and `mx` lines, and MX records whose
host names carry `<!here>` and `<@U…>` (DNS allows any byte in a label). The
testbed serves fixed SMTP banners and certificates, so the SMTP banner,
certificate subject/issuer/SAN and certificate error of the real report are
overwritten with hostile text before the app sees it (the only grafted part).
People's own input is hostile too (slash command, mention, DM, button values).

Every request the Web API stand-in and the response_urls received is then
walked string by string: no raw `<` or `>` anywhere (our own builders emit
none, so any would be untrusted), no code fence or backtick from the data left
able to open or close a code span, every mrkdwn object `verbatim: true`, and
never `link_names` or `parse=full`.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from slack_harness import Harness, running_app, web_calls

from bot.checker.engine import check
from bot.checker.model import CertInfo, Report
from bot.slack.blocks.ids import (
    ACTION_DNS,
    ACTION_EXPLAIN,
    ACTION_MX,
    ACTION_POLICY,
    ACTION_RECHECK,
)
from bot.slack.ratelimit import Limit, MemoryRateLimiter
from bot.testbed.bed import Testbed
from bot.testbed.behaviour import Mx
from bot.testbed.scenario import make, policy_text

H = (
    "<!channel> <!here> <@U0EVIL> <!subteam^S0EVIL> <https://evil.example|mta-sts.x.example> "
    "```FENCE `TICK *b* _i_ ~s~ &amp; &lt;!everyone&gt;"
)
MARKERS = ("<!channel>", "<!here>", "<@U0EVIL>", "<!subteam", "<https://evil", "<!everyone>")

ZONE = "slack-hostile.example"
TXT = f"hostile-txt.{ZONE}"
POLICY = f"hostile-policy.{ZONE}"
MXD = f"hostile-mx.{ZONE}"
DOMAINS = (TXT, POLICY, MXD)


def scenarios() -> list[Any]:
    return [
        make(
            TXT,
            "MTA-STS and TLS-RPT TXT records full of Slack markup",
            sts=((f"v=STSv1; id=1{H}",),),
            tlsrpt=((f"v=TLSRPTv1; rua=mailto:{H}",),),
        ),
        make(
            POLICY,
            "policy body with Slack markup in keys, values and an mx line",
            body=policy_text(
                mx=[f"mx1.{POLICY}", f"mx2.{POLICY}", "<https://evil.example|mx9.x>"],
                extra=[f"<@U0EVIL>: {H}", f"note: {H}", H, "Mode: <!channel>"],
            ),
        ),
        make(
            MXD,
            "MX host names carrying Slack markup (unresolvable, so not probed)",
            mx=(
                Mx(f"mx1.{MXD}", 10),
                Mx(f"mx-<!here>.{MXD}", 20, resolvable=False),
                Mx(f"<@U0EVIL>|x```y.{MXD}", 30, resolvable=False),
            ),
        ),
    ]


def graft(report: Report) -> Report:
    """The parts the testbed cannot make hostile: banner, certificate names, cert error."""
    evil_cert = CertInfo(subject=f"CN={H}", issuer=f"O={H}", san=[H, "x.example"], not_after=H)
    for mx in report.mx:
        if mx.tls is None:
            continue
        mx.tls.cert_error = H
        for probe in mx.tls.probes:
            probe.banner = f"220 {H}"
            probe.cert = evil_cert
            probe.cert_error = H
            probe.error = H
    if report.fetch is not None:
        report.fetch.cert = evil_cert
        report.fetch.content_type = H
    return report


@pytest_asyncio.fixture
async def hostile(testbed: Testbed) -> AsyncIterator[Harness]:
    missing = [s for s in scenarios() if s.domain not in testbed.scenarios]
    if missing:
        await testbed.add(*missing)
    settings = testbed.settings()

    async def real_check(domain: str) -> Report:
        return graft(await check(domain, settings))

    generous = MemoryRateLimiter(user=Limit(1000, 100.0), team=Limit(1000, 100.0))
    async with running_app(check=real_check, limiter=generous) as h:
        yield h


# -- walking what was posted ------------------------------------------------------------


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def strings(node: Any, path: str = "$") -> list[tuple[str, str]]:
    node = _maybe_json(node)
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in strings(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [s for i, v in enumerate(node) for s in strings(v, f"{path}[{i}]")]
    return [(path, node)] if isinstance(node, str) else []


def mrkdwn_objects(node: Any) -> list[dict[str, Any]]:
    node = _maybe_json(node)
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn":
            out.append(node)
        for value in node.values():
            out += mrkdwn_objects(value)
    elif isinstance(node, list):
        for value in node:
            out += mrkdwn_objects(value)
    return out


_FENCED = re.compile(r"```.*?```", re.DOTALL)


def assert_harmless(calls: list[Any]) -> None:
    assert calls, "nothing was posted: the test would prove nothing"
    for call in calls:
        where = f"{call.method}"
        args = call.args
        assert "link_names" not in args, where
        assert args.get("parse") != "full", where
        for path, text in strings(args):
            assert "<" not in text, (where, path, text[:300])
            assert ">" not in text, (where, path, text[:300])
            assert "```FENCE" not in text, (where, path)
            assert "`TICK" not in text, (where, path)
        for obj in mrkdwn_objects(args):
            assert obj.get("verbatim") is True, (where, obj["text"][:200])
            text = obj["text"]
            assert text.count("```") % 2 == 0, (where, text[:300])
            assert _FENCED.sub("", text).count("`") % 2 == 0, (where, text[:300])


def all_posted(h: Harness) -> list[Any]:
    return [c for c in web_calls(h.standin.calls) if c.method != "socket_ack"]


def posted_text(h: Harness) -> str:
    return "\n".join(t for c in all_posted(h) for _, t in strings(c.args))


# -- the test --------------------------------------------------------------------------


@pytest.mark.slow
async def test_no_hostile_text_becomes_markup_anywhere_the_app_posts(hostile: Harness) -> None:
    h = hostile
    # 1. The slash command: the ack, then one in_channel result per domain.
    sent, url = await h.command(" ".join(DOMAINS))
    assert sent.status == 200
    await h.wait_for(lambda calls: len(h.standin.response_posts(url)) == 3, timeout=20)
    ack = sent.json()
    assert_harmless([type("Ack", (), {"method": "ack", "args": ack})()])

    # 2. The people's own hostile input, echoed in errors (ack of a command, DM, mention).
    evil_inputs = (
        "&lt;!channel&gt;.example <mailto:x@evil.example|&lt;@U0EVIL&gt;> "
        "a```FENCE.example b`TICK.example &lt;https://evil.example|x&gt;"
    )
    sent_bad, _ = await h.command(evil_inputs)
    assert sent_bad.status == 200
    bad_ack = sent_bad.json()
    assert_harmless([type("Ack", (), {"method": "ack", "args": bad_ack})()])
    assert "&lt;!channel&gt;" in bad_ack["text"] or "&lt;!channel&gt;" in json.dumps(bad_ack)
    await h.send(h.slack.direct_message(evil_inputs, ts="1700000300.000100"))
    await h.send(h.slack.mention(evil_inputs, ts="1700000301.000100"))

    # 3. A mention of the hostile domains: threaded answers.
    await h.send(h.slack.mention(" ".join(DOMAINS), ts="1700000302.000100"))

    # 4. Every button of every result: three modals, explain in thread, re-check.
    for domain in DOMAINS:
        for action in (ACTION_POLICY, ACTION_DNS, ACTION_MX):
            await h.click(action, domain)
        await h.click(ACTION_EXPLAIN, domain, message_ts="1700000303.000100")
        await h.click(ACTION_RECHECK, domain)
    # A button whose value is hostile (a forged click; never from our buttons).
    await h.click(ACTION_POLICY, H)
    await h.click(ACTION_EXPLAIN, H)
    await h.click(ACTION_RECHECK, H)
    # Explain where the bot is not a member: the fallback hint is escaped too.
    h.standin.set_not_in_channel("C0NOTMEMBER")
    await h.click(ACTION_EXPLAIN, TXT, channel="C0NOTMEMBER", message_ts="1700000304.000100")

    # 5. The private fallbacks carry the same data: a mention where the bot is not a member
    # (answered by DM) and a command whose response_url is used up (answered ephemerally).
    await h.send(h.slack.mention(POLICY, channel="C0NOTMEMBER", ts="1700000305.000100"))
    used = h.standin.new_response_url()
    for _ in range(5):
        async with h.session.post(used, json={"text": "earlier"}):
            pass
    await h.send(h.slack.slash_command(MXD, response_url=used))

    await h.wait_for(
        lambda calls: (
            len(h.standin.calls_to("views.open")) >= 10
            and len(h.standin.calls_to("chat.postMessage")) >= 3 + 3 + 2 + 1
            and h.standin.calls_to("chat.postEphemeral")
        ),
        timeout=20,
    )
    await h.idle()
    calls = [c for c in all_posted(h) if c.args.get("text") != "earlier"]
    assert_harmless(calls)
    dms = [c for c in calls if c.method == "chat.postMessage" and c.args["channel"] == "U0CALLER"]
    assert dms, "the not-in-channel mention was not answered by DM"

    # The hostile data really reached Slack (escaped): otherwise this proves nothing.
    text = posted_text(h)
    for needle in (
        "&lt;!channel&gt;",
        "&lt;@U0EVIL&gt;",
        "&lt;!subteam^S0EVIL&gt;",
        "&lt;!here&gt;",
    ):
        assert needle in text, needle
    assert "&lt;https://evil.example|" in text
    assert "&amp;lt;!everyone&amp;gt;" in text  # an entity in the data is shown, not decoded
    for method in ("views.open", "chat.postMessage", "response_url", "chat.postEphemeral"):
        assert any(c.method == method and c.ok for c in calls), method
    # Modals carried the grafted banner and certificate, escaped.
    views = json.dumps([c.args for c in h.standin.calls_to("views.open")])
    assert "220 &lt;!channel&gt;" in views
    assert not any(c.status >= 500 for c in calls)


async def test_hostile_user_input_alone_is_escaped_in_every_answer(harness: Harness) -> None:
    """What people type is echoed only escaped (ack, thread, DM), with the fake checker."""
    h = harness
    inputs = [
        "&lt;!channel&gt;",  # a bare mention is help; with a domain-like tail it is an error
        "&lt;!channel&gt;x.example",
        "<mailto:a@b.example|&lt;@U0EVIL&gt;>",
        "&lt;https://evil.example|good.example&gt;",
        "```FENCE`TICK.example",
        "x" * 300 + "&lt;!here&gt;",
        "\u202eevil\u200b.example &lt;!subteam^S1&gt;.x",
    ]
    for i, text in enumerate(inputs):
        sent, _ = await h.command(text)
        assert sent.status == 200
        assert_harmless([type("Ack", (), {"method": "ack", "args": sent.json()})()])
        await h.send(h.slack.mention(text, ts=f"1700000400.{i:06d}"))
        await h.send(h.slack.direct_message(text, ts=f"1700000401.{i:06d}"))
    await h.wait_for(lambda calls: len(h.standin.calls_to("chat.postMessage")) >= 2 * len(inputs))
    await h.idle()
    assert_harmless(all_posted(h))
    # Only normalised domains ever reach the checker (here the mailto and link targets).
    assert sorted(set(h.checker.calls)) == ["b.example", "evil.example"]
