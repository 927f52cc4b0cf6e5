"""The scenario catalogue: every domain the testbed plays and what a check must say.

At least one scenario per finding code of the contract; `demo=True` marks the
realistic samples `mtasts demo` shows. Every domain is under `.example`.
Scenarios tagged "slow" wait on a shortened check budget (2 to 2.5 s); the tests
check them after the others, so that the others' load does not eat into it.
"""

from __future__ import annotations

from bot.checker import limits
from bot.testbed.behaviour import DnsFault, HttpBehaviour, Mx, PolicyHost, Rr, Smtp
from bot.testbed.scenario import Scenario, make, policy_text

SHORT = {"timeout": 2.0}  # budget for the scenarios that wait on a timeout


def _late_dns() -> list[Scenario]:
    """A slow DNS answer inside the budget is an answer: late, lost and retransmitted
    queries (tests/checker/test_dns_wait.py reads their reports)."""
    slow = "wait-slow-resolver.example"
    late = "wait-late-first.example"
    delayed = (f"_mta-sts.{slow}", f"_smtp._tls.{slow}", f"mta-sts.{slow}", slow)
    return [
        make(
            slow,
            "every first lookup answered after 1 s, within the 2 s budget; the policy host "
            "then answers after 3 s, more than is left",
            ["policy_timeout"],
            expect_mode=None,
            http=HttpBehaviour(body=policy_text(mx=[f"mx1.{slow}", f"mx2.{slow}"]), delay=3.0),
            faults=tuple(DnsFault(name, delay=1.0) for name in delayed),
            settings=SHORT,
            tags=["slow"],
        ),
        make(
            "wait-lost-packet.example",
            "the first _mta-sts query is lost; the retransmission is answered",
            faults=(DnsFault("_mta-sts.wait-lost-packet.example", "lose_first"),),
        ),
        make(
            late,
            "_mta-sts answered after 1.5 s, to the first query only (retransmissions are "
            "lost), within a 2.5 s budget",
            faults=(DnsFault(f"_mta-sts.{late}", "lose_retries", delay=1.5),),
            settings={"timeout": 2.5},
            tags=["slow"],
        ),
    ]


KIB = 1024


def _body(domain: str, *extra: str, mx: tuple[str, ...] | None = None, **kw: object) -> bytes:
    hosts = mx if mx is not None else (f"mx1.{domain}", f"mx2.{domain}")
    return policy_text(mx=hosts, extra=extra, **kw)  # type: ignore[arg-type]


def _backup(domain: str, smtp: Smtp | None = None, *, resolvable: bool = True) -> tuple[Mx, Mx]:
    """A healthy primary MX and a backup MX with the given behaviour."""
    backup = Mx(f"mx2.{domain}", 20, smtp or Smtp(), resolvable=resolvable)
    return (Mx(f"mx1.{domain}", 10), backup)


def _healthy() -> list[Scenario]:
    d = "good.example"
    return [
        make(d, "healthy enforce domain with two MX, TLS-RPT and valid certificates", demo=True),
        make(
            "multi-string.example",
            "MTA-STS and TLS-RPT records split into several TXT strings (joined without spaces)",
            sts=(("v=STSv1; ", "id=2024", "0101T000000"),),
            tlsrpt=(("v=TLSRPTv1; ", "rua=mailto:tlsrpt@multi-string.example"),),
        ),
        make(
            "other-txt.example",
            "an unrelated TXT record next to the v=STSv1 one (ignored)",
            sts=(("v=spf1 -all",), ("v=STSv1; id=20240101T000000",)),
        ),
        make(
            "cname-record.example",
            "_mta-sts is a CNAME to a policy provider (delegation, RFC 8461 §8.2)",
            sts=(),
            records=(
                Rr("_mta-sts.cname-record.example", "CNAME", "_mta-sts.sts-provider.example"),
                Rr("_mta-sts.sts-provider.example", "TXT", ("v=STSv1; id=20240101T000000",)),
            ),
            note="record.cname: ['_mta-sts.sts-provider.example']",
        ),
        make(
            "cname-dangling.example",
            "_mta-sts is a CNAME to a provider name that no longer exists",
            ["record_missing"],
            sts=(),
            records=(
                Rr("_mta-sts.cname-dangling.example", "CNAME", "_mta-sts.gone-provider.example"),
            ),
            expect_mode=None,
            note="the record_missing message names the chain and the missing target",
        ),
        make(
            "stray-version.example",
            "a valid record plus a stray 'v=STSv1' with no ';' (discarded by senders)",
            sts=(("v=STSv1; id=20240101T000000",), ("v=STSv1",)),
            note="only records beginning 'v=STSv1;' count (RFC 8461 §3.1): not record_multiple",
        ),
        make(
            "no-semicolon.example",
            "the one record reads 'v=STSv1 id=…' (no ';'): meant as a record, discarded",
            ["record_invalid"],
            expect_mode=None,
            sts=(("v=STSv1 id=20240101",),),
        ),
        make(
            "cname-chain.example",
            "_mta-sts is a two-step CNAME chain",
            sts=(),
            records=(
                Rr("_mta-sts.cname-chain.example", "CNAME", "sts.hop1.example"),
                Rr("sts.hop1.example", "CNAME", "_mta-sts.hop2.example"),
                Rr("_mta-sts.hop2.example", "TXT", ("v=STSv1; id=chain2024",)),
            ),
            note="record.cname: ['sts.hop1.example', '_mta-sts.hop2.example']",
        ),
        make(
            "truncated.example",
            "the MTA-STS TXT answer is truncated over UDP (TC) and complete over TCP",
            faults=(DnsFault("_mta-sts.truncated.example", "truncate"),),
        ),
        make(
            "charset.example",
            "policy served as text/plain; charset=utf-8 with CRLF line ends",
            http=HttpBehaviour(
                body=_body("charset.example", newline="\r\n"),
                content_type="text/plain; charset=utf-8",
            ),
        ),
        make(
            "http10.example",
            "policy served as HTTP/1.0 without Content-Length (ends at close)",
            http=HttpBehaviour(body=_body("http10.example"), version="HTTP/1.0", framing="close"),
        ),
        make(
            "wildcard.example",
            "a '*.' pattern covering both MX hosts",
            body=policy_text(mx=["*.wildcard.example"]),
        ),
        make(
            "slow-dns.example",
            "every DNS answer for the domain's names is 0.2 s late (within budget)",
            faults=tuple(
                DnsFault(n, delay=0.2)
                for n in (
                    "slow-dns.example",
                    "_mta-sts.slow-dns.example",
                    "_smtp._tls.slow-dns.example",
                    "mta-sts.slow-dns.example",
                )
            ),
        ),
        make(
            "slow-mx.example",
            "an MX that answers each SMTP command 0.1 s late (within budget)",
            mx=(Mx("mx1.slow-mx.example", 10, Smtp(delay=0.1)),),
        ),
        make(
            "mx-over-cap.example",
            f"{limits.MAX_MX_HOSTS + 3} MX hosts, all healthy: the last 3 by preference are "
            "not checked, and named",
            ["mx_not_checked"],
            mx=tuple(
                Mx(f"mx{i:03d}.mx-over-cap.example", i) for i in range(1, limits.MAX_MX_HOSTS + 4)
            ),
            shared=True,
        ),
        make(
            "implicit-mx.example",
            "no MX records: mail goes to the domain's own address, which has good STARTTLS",
            ["mx_implicit"],
            mx=(Mx("implicit-mx.example", 0, published=False),),
        ),
        make(
            "unknown-key.example",
            "a policy with an extra key the RFC does not define",
            ["policy_unknown_key"],
            body=_body("unknown-key.example", "x-managed-by: hand"),
        ),
        make(
            "unused-pattern.example",
            "a policy mx pattern left over from an old provider",
            ["mx_pattern_unused"],
            body=policy_text(
                mx=["mx1.unused-pattern.example", "mx2.unused-pattern.example", "mx.old.example"]
            ),
        ),
        make("testing.example", "healthy domain in testing mode", ["mode_testing"], mode="testing"),
        make(
            "none.example", "a domain withdrawing MTA-STS (mode none)", ["mode_none"], mode="none"
        ),
    ]


def _records() -> list[Scenario]:
    good_policy = "the policy host serves a good policy, so only the record is at fault"
    return [
        make(
            "no-record.example",
            "no _mta-sts TXT record at all",
            ["record_missing"],
            sts=(),
            expect_mode=None,
            note=good_policy,
        ),
        make(
            "two-records.example",
            "two v=STSv1 records (an old one never removed)",
            ["record_multiple"],
            sts=(("v=STSv1; id=20230101",), ("v=STSv1; id=20240101",)),
            expect_mode=None,
        ),
        make(
            "dash-id.example",
            "record id written as a date with dashes",
            ["record_invalid"],
            sts=(("v=STSv1; id=2024-01-01",),),
            expect_mode=None,
            demo=True,
        ),
        make(
            "no-id.example",
            "record without an id",
            ["record_invalid"],
            sts=(("v=STSv1;",),),
            expect_mode=None,
        ),
        make(
            "long-id.example",
            "record id of 33 characters",
            ["record_invalid"],
            sts=(("v=STSv1; id=" + "a" * 33,),),
            expect_mode=None,
        ),
        make(
            "record-servfail.example",
            "the _mta-sts TXT lookup answers SERVFAIL",
            ["record_lookup_failed"],
            faults=(DnsFault("_mta-sts.record-servfail.example", "servfail"),),
            expect_mode=None,
        ),
        make(
            "record-refused.example",
            "the _mta-sts TXT lookup answers REFUSED",
            ["record_lookup_failed"],
            faults=(DnsFault("_mta-sts.record-refused.example", "refused"),),
            expect_mode=None,
        ),
        make(
            "record-timeout.example",
            "the _mta-sts TXT lookup never answers",
            ["record_lookup_failed"],
            faults=(DnsFault("_mta-sts.record-timeout.example", "drop"),),
            settings=SHORT,
            expect_mode=None,
            tags=["slow"],
        ),
        *_late_dns(),
    ]


def _policy_host() -> list[Scenario]:
    out = [
        make(
            "no-policy-host.example",
            "mta-sts.<domain> does not exist in DNS",
            ["policy_host_unresolvable"],
            policy=PolicyHost(resolvable=False),
            expect_mode=None,
        ),
        make(
            "policy-host-servfail.example",
            "the address lookup of mta-sts.<domain> fails (SERVFAIL)",
            ["policy_host_unresolvable"],
            faults=(DnsFault("mta-sts.policy-host-servfail.example", "servfail"),),
            expect_mode=None,
        ),
        make(
            "private.example",
            "private access off: policy host and MX hosts are all on loopback",
            ["policy_host_blocked", "mx_address_blocked"],
            settings={"allow_private": False},
            expect_mode=None,
            note=(
                "every testbed address is loopback, so mx_address_blocked comes with "
                "policy_host_blocked (one finding per MX host, 2)"
            ),
        ),
        make(
            "policy-refused.example",
            "nothing listens on port 443 of the policy host",
            ["policy_connect_failed"],
            policy=PolicyHost(listening=False),
            expect_mode=None,
        ),
        make(
            "policy-tls-abort.example",
            "the policy host accepts TCP, reads the TLS ClientHello, and hangs up",
            ["policy_connect_failed"],
            policy=PolicyHost(tls_abort=True),
            expect_mode=None,
            note="a handshake cut short reads as no HTTPS connection (not a certificate problem)",
        ),
        make(
            "expiring-policy-cert.example",
            "policy host certificate valid, 7 days left",
            ["cert_expiring"],
            policy=PolicyHost(
                http=HttpBehaviour(body=_body("expiring-policy-cert.example")), cert="expiring"
            ),
        ),
    ]
    for kind, what in [
        ("expired", "expired"),
        ("wrong_name", "issued for another name"),
        ("untrusted", "issued by an untrusted CA"),
        ("self_signed", "self-signed"),
        ("cn_only", "naming the host in the CN only, without SAN"),
    ]:
        d = f"{kind.replace('_', '-')}-policy-cert.example"
        out.append(
            make(
                d,
                f"policy host certificate {what}",
                ["policy_tls_invalid"],
                policy=PolicyHost(http=HttpBehaviour(body=_body(d)), cert=kind),  # type: ignore[arg-type]
                expect_mode=None,
                demo=kind == "expired",
            )
        )
    return out


def _policy_fetch() -> list[Scenario]:
    out = [
        make(
            "redirect.example",
            "the policy URL redirects to www (redirects must not be followed)",
            ["policy_redirect"],
            http=HttpBehaviour(
                status=301,
                body=b"moved\n",
                location="https://www.redirect.example/.well-known/mta-sts.txt",
            ),
            expect_mode=None,
        ),
        make(
            "html-policy.example",
            "a good policy served as text/html",
            ["policy_content_type"],
            http=HttpBehaviour(body=_body("html-policy.example"), content_type="text/html"),
            note="wrong media type leaves the policy usable: MX are probed, mode enforce",
        ),
        make(
            "no-content-type.example",
            "a good policy served without Content-Type",
            ["policy_content_type"],
            http=HttpBehaviour(body=_body("no-content-type.example"), content_type=None),
        ),
    ]
    for status in (404, 204, 500):
        out.append(
            make(
                f"status-{status}.example",
                f"the policy URL answers {status}",
                ["policy_http_status"],
                http=HttpBehaviour(status=status, body=b"" if status == 204 else b"error\n"),
                expect_mode=None,
            )
        )
    big = _body("x.example") + b"# padding\n" * (10 * KIB)  # ~100 KiB
    for name, http in [
        ("large-policy.example", HttpBehaviour(body=big)),
        ("large-unframed.example", HttpBehaviour(body=big, framing="close")),
        ("large-chunked.example", HttpBehaviour(body=big, framing="chunked")),
        ("endless-policy.example", HttpBehaviour(body=b"", endless=True, framing="close")),
    ]:
        out.append(
            make(
                name,
                f"policy body over 64 KiB ({http.framing}{', endless' if http.endless else ''})",
                ["policy_too_large"],
                http=http,
                expect_mode=None,
            )
        )
    for name, what, http in [
        ("slow-policy.example", "answers after 30 s", HttpBehaviour(delay=30.0)),
        (
            "stalled-policy.example",
            "sends headers, then nothing",
            HttpBehaviour(body=_body("stalled-policy.example"), stall_after_headers=True),
        ),
        (
            "drip-policy.example",
            "drips the body one byte every 0.3 s",
            HttpBehaviour(body=_body("drip-policy.example"), drip=0.3),
        ),
    ]:
        out.append(
            make(
                name,
                f"the policy host {what}",
                ["policy_timeout"],
                http=http,
                settings=SHORT,
                expect_mode=None,
                tags=["slow"],
            )
        )
    return out


def _policy_body() -> list[Scenario]:
    def bad(domain: str, description: str, codes: list[str], body: bytes, **kw: object) -> Scenario:
        return make(domain, description, codes, body=body, **kw)  # type: ignore[arg-type]

    unusable = {"expect_mode": None}
    return [
        bad(
            "syntax-space-colon.example",
            "a space before the colon on a (redundant) mx line",
            ["policy_syntax"],
            _body("syntax-space-colon.example", "mx : mx1.syntax-space-colon.example"),
            note="the broken line repeats a valid mx, so skipping it or not changes nothing else",
        ),
        bad(
            "syntax-leading-space.example",
            "a (redundant) mx line starting with a space",
            ["policy_syntax"],
            _body("syntax-leading-space.example", " mx: mx1.syntax-leading-space.example"),
            note="the broken line repeats a valid mx",
        ),
        bad(
            "syntax-bare-cr.example",
            "the last (redundant) line ends with a bare CR",
            ["policy_syntax"],
            _body("syntax-bare-cr.example") + b"mx: mx1.syntax-bare-cr.example\r",
            note="assumes the bare-CR line is reported only as policy_syntax, policy usable",
        ),
        bad(
            "syntax-bom.example",
            "the policy starts with a UTF-8 byte-order mark",
            ["policy_syntax"],
            b"\xef\xbb\xbf" + _body("syntax-bom.example"),
            note="assumes the BOM is reported as policy_syntax and then skipped (policy usable)",
        ),
        bad(
            "syntax-binary.example",
            "the policy body is binary (NUL bytes), not text",
            ["policy_syntax"],
            b"\x00\x01\x02PK\x03\x04" + b"\x00" * 64,
            note="assumes a non-text body stops at policy_syntax (no field findings)",
            **unusable,
        ),
        bad(
            "version-invalid.example",
            "version STSv2",
            ["policy_version_invalid"],
            _body("version-invalid.example").replace(b"STSv1", b"STSv2"),
            **unusable,
        ),
        bad(
            "no-version.example",
            "no version line",
            ["policy_version_invalid"],
            _body("no-version.example").replace(b"version: STSv1\n", b""),
            **unusable,
        ),
        bad(
            "mode-case.example",
            "mode written Enforce (values are case-sensitive)",
            ["policy_mode_invalid"],
            _body("mode-case.example").replace(b"mode: enforce", b"mode: Enforce"),
            **unusable,
        ),
        bad(
            "typo-key.example",
            "the key typed 'Mode:' (keys are case-sensitive), so the policy has no mode",
            ["policy_mode_invalid", "policy_unknown_key"],
            _body("typo-key.example").replace(b"mode: enforce", b"Mode: enforce"),
            demo=True,
            **unusable,
        ),
        bad(
            "max-age-word.example",
            "max_age written 1w",
            ["policy_max_age_invalid"],
            _body("max-age-word.example", max_age="1w"),
            **unusable,
        ),
        bad(
            "max-age-huge.example",
            "max_age over 31557600",
            ["policy_max_age_invalid"],
            _body("max-age-huge.example", max_age=31557601),
            **unusable,
        ),
        bad(
            "max-age-short.example",
            "max_age of one hour",
            ["policy_max_age_short"],
            _body("max-age-short.example", max_age=3600),
        ),
        bad(
            "no-mx-lines.example",
            "enforce policy without any mx line",
            ["policy_mx_missing"],
            policy_text(mx=[]),
            **unusable,
        ),
        bad(
            "nmx-typo.example",
            "mx keys typed 'nmx', leaving an enforce policy with no mx",
            ["policy_mx_missing", "policy_unknown_key"],
            _body("nmx-typo.example").replace(b"\nmx:", b"\nnmx:"),
            note="two policy_unknown_key findings (one per nmx line) or one: codes are a set",
            **unusable,
        ),
        bad(
            "ip-mx.example",
            "the only mx value is an IP address",
            ["policy_mx_invalid"],
            policy_text(mx=["192.0.2.25"]),
            note="no valid mx left: unusable; assumes no policy_mx_missing (an mx line exists)",
            demo=True,
            **unusable,
        ),
        bad(
            "underscore-mx.example",
            "an extra mx value with an underscore next to valid ones",
            ["policy_mx_invalid"],
            _body("underscore-mx.example", "mx: mail_old.underscore-mx.example"),
            note="usable (valid mx remain); assumes an invalid value is not also mx_pattern_unused",
        ),
        bad(
            "bad-wildcard.example",
            "an extra pattern with a wildcard in the middle",
            ["policy_mx_invalid"],
            _body("bad-wildcard.example", "mx: mail.*.bad-wildcard.example"),
            note="usable (valid mx remain); assumes an invalid value is not also mx_pattern_unused",
        ),
        bad(
            "duplicate-key.example",
            "mode given twice, same value",
            ["policy_key_duplicate"],
            _body("duplicate-key.example", "mode: enforce"),
        ),
        bad(
            "duplicate-mode.example",
            "mode testing, then mode enforce (the RFC keeps the first)",
            ["policy_key_duplicate", "mode_testing"],
            _body("duplicate-mode.example", "mode: enforce").replace(
                b"mode: enforce\nmx", b"mode: testing\nmx", 1
            ),
            mode="testing",
        ),
    ]


def _mx() -> list[Scenario]:
    out = [
        make(
            "mx-servfail.example",
            "the MX lookup answers SERVFAIL",
            ["mx_lookup_failed"],
            faults=(DnsFault("mx-servfail.example", "servfail", qtypes=frozenset({"MX"})),),
            note="assumes no mx_pattern_unused when the MX set is unknown",
        ),
        make(
            "no-mail.example",
            "neither MX nor address records, but an enforce policy",
            ["mx_none", "mx_pattern_unused"],
            mx=(),
            body=policy_text(mx=["mx.no-mail.example"]),
            note="assumes the policy's pattern is reported unused (no MX hosts at all)",
        ),
        make(
            "null-mx.example",
            "a null MX (accepts no mail) with an enforce policy",
            ["mx_null", "mx_pattern_unused"],
            mx=(Mx(".", 0, resolvable=False),),
            body=policy_text(mx=["mx.null-mx.example"]),
            note="assumes the policy's pattern is reported unused (the null MX is no host)",
        ),
        make(
            "null-mx-mixed.example",
            "a null MX published next to two real MX hosts (RFC 7505 forbids the mix)",
            ["mx_null"],
            mx=(
                Mx(".", 0, resolvable=False),
                Mx("mx1.null-mx-mixed.example", 10),
                Mx("mx2.null-mx-mixed.example", 20),
            ),
            note="the real MX hosts are still checked (senders use them)",
        ),
        make(
            "implicit-servfail.example",
            "no MX records, and the lookup of the domain's own address fails",
            ["mx_lookup_failed"],
            mx=(Mx("implicit-servfail.example", 0, published=False),),
            faults=(DnsFault("implicit-servfail.example", "servfail", frozenset({"A", "AAAA"})),),
            note="not mx_none: a failed lookup is not an authoritative 'no address'",
        ),
        make(
            "backup-not-covered.example",
            "enforce policy naming only the primary MX",
            ["mx_not_covered"],
            body=policy_text(mx=["mx1.backup-not-covered.example"]),
        ),
        make(
            "testing-backup.example",
            "testing policy whose backup MX is not covered",
            ["mode_testing", "mx_not_covered"],
            mode="testing",
            body=policy_text("testing", mx=["mx1.testing-backup.example"]),
            demo=True,
        ),
        make(
            "wildcard-short.example",
            "wildcard one label short of the provider's MX names",
            ["mx_not_covered", "mx_pattern_unused"],
            mx=(Mx("mx1.eu.mail-provider.example", 10), Mx("mx2.eu.mail-provider.example", 20)),
            body=policy_text(mx=["*.mail-provider.example"]),
            demo=True,
        ),
        make(
            "psl-uk.example",
            "MX hosts under co.uk: one near its policy pattern (same registrable domain), "
            "one only sharing the public suffix with the other pattern",
            ["mx_not_covered", "mx_pattern_unused"],
            mx=(Mx("smtp.alpha-mail.co.uk", 10), Mx("mx.bravo-host.co.uk", 20)),
            body=policy_text(mx=["mx.alpha-mail.co.uk", "mx.charlie-net.co.uk"]),
            note="near-miss advice compares registrable domains (Public Suffix List): "
            "alpha-mail.co.uk and bravo-host.co.uk are two domains, not one co.uk",
        ),
        make(
            "mx-no-address.example",
            "the backup MX host has no address record",
            ["mx_host_unresolvable"],
            mx=(
                Mx("mx1.mx-no-address.example", 10),
                Mx("mx2.mx-no-address.example", 20, resolvable=False),
            ),
        ),
        make(
            "mx-refused.example",
            "nothing listens on port 25 of the backup MX",
            ["mx_unreachable"],
            mx=(
                Mx("mx1.mx-refused.example", 10),
                Mx("mx2.mx-refused.example", 20, Smtp("refused")),
            ),
        ),
        make(
            "mx-slow.example",
            "the backup MX answers every command 5 s late",
            ["mx_timeout"],
            mx=(Mx("mx1.mx-slow.example", 10), Mx("mx2.mx-slow.example", 20, Smtp(delay=5.0))),
            settings=SHORT,
            tags=["slow"],
        ),
        make(
            "mx-stall.example",
            "the backup MX accepts connections and never greets",
            ["mx_timeout"],
            mx=(Mx("mx1.mx-stall.example", 10), Mx("mx2.mx-stall.example", 20, Smtp("stall"))),
            settings=SHORT,
            tags=["slow"],
        ),
        make(
            "mx-plain.example",
            "the backup MX does not offer STARTTLS",
            ["mx_starttls_missing"],
            mx=(Mx("mx1.mx-plain.example", 10), Mx("mx2.mx-plain.example", 20, Smtp("plain"))),
        ),
        make(
            "mx-plain-testing.example",
            "testing mode, the backup MX does not offer STARTTLS",
            ["mode_testing", "mx_starttls_missing"],
            mode="testing",
            mx=(
                Mx("mx1.mx-plain-testing.example", 10),
                Mx("mx2.mx-plain-testing.example", 20, Smtp("plain")),
            ),
        ),
        make(
            "mx-tls-drop.example",
            "the MX answers STARTTLS with 220, then closes before the handshake",
            ["mx_tls_failed"],
            mx=(Mx("mx1.mx-tls-drop.example", 10, Smtp("drop_after_starttls")),),
        ),
        make(
            "mx-starttls-error.example",
            "the MX advertises STARTTLS and answers it with 454",
            ["mx_tls_failed"],
            mx=(Mx("mx1.mx-starttls-error.example", 10, Smtp("starttls_error")),),
            note="assumes 454 to STARTTLS is mx_tls_failed (offered, but no TLS)",
        ),
        make(
            "mx-554.example",
            "the MX greets with 554 (as many do to a checker's blocklisted address)",
            ["mx_unreachable"],
            mx=(Mx("mx1.mx-554.example", 10, Smtp("banner_554")),),
            note="a refused SMTP session is reported as mx_unreachable (a warning): it is "
            "usually about the checker's address, and STARTTLS could not be asked for",
        ),
        make(
            "mx-garbage.example",
            "the MX answers port 25 with bytes that are not SMTP",
            ["mx_unreachable"],
            mx=(Mx("mx1.mx-garbage.example", 10, Smtp("garbage")),),
        ),
        make(
            "mx-old-tls.example",
            "the MX offers only TLS 1.0/1.1",
            ["mx_tls_version_old"],
            mx=(Mx("mx1.mx-old-tls.example", 10, Smtp("old_tls")),),
        ),
        make(
            "mx-old-tls-close.example",
            "the MX offers only TLS 1.0/1.1 and closes a TLS 1.2+ handshake without an alert",
            ["mx_tls_version_old"],
            mx=(Mx("mx1.mx-old-tls-close.example", 10, Smtp("old_tls_close")),),
        ),
        make(
            "mx-weak-cipher.example",
            "the MX speaks TLS 1.2 with a SHA-1 CBC cipher only, which default clients refuse",
            ["mx_tls_failed"],
            mx=(Mx("mx1.mx-weak-cipher.example", 10, Smtp("weak_cipher")),),
        ),
        make(
            "mx-expiring.example",
            "MX certificate valid, 7 days left",
            ["cert_expiring"],
            mx=(Mx("mx1.mx-expiring.example", 10, Smtp(cert="expiring")),),
        ),
        make(
            "mx-cert-testing.example",
            "testing mode, MX certificate expired",
            ["mode_testing", "mx_cert_invalid"],
            mode="testing",
            mx=(Mx("mx1.mx-cert-testing.example", 10, Smtp(cert="expired")),),
        ),
        make(
            "mx-cert-none.example",
            "mode none, MX certificate for another name (at most info)",
            ["mode_none", "mx_cert_invalid"],
            mode="none",
            mx=(Mx("mx1.mx-cert-none.example", 10, Smtp(cert="wrong_name")),),
        ),
    ]
    for kind, what in [
        ("expired", "expired"),
        ("wrong_name", "issued for another name"),
        ("untrusted", "issued by an untrusted CA"),
        ("self_signed", "self-signed"),
        ("cn_only", "naming the host in the CN only, without SAN"),
    ]:
        d = f"mx-{kind.replace('_', '-')}.example"
        out.append(
            make(
                d,
                f"backup MX certificate {what}",
                ["mx_cert_invalid"],
                mx=(Mx(f"mx1.{d}", 10), Mx(f"mx2.{d}", 20, Smtp(cert=kind))),  # type: ignore[arg-type]
                demo=kind == "expired",
            )
        )
    return out


def _tlsrpt() -> list[Scenario]:
    return [
        make("no-tlsrpt.example", "no TLS-RPT record", ["tlsrpt_missing"], tlsrpt=()),
        make(
            "tlsrpt-servfail.example",
            "the TLS-RPT lookup answers SERVFAIL",
            ["tlsrpt_lookup_failed"],
            faults=(DnsFault("_smtp._tls.tlsrpt-servfail.example", "servfail"),),
        ),
        make(
            "tlsrpt-invalid.example",
            "TLS-RPT rua without a URI scheme",
            ["tlsrpt_invalid"],
            tlsrpt=(("v=TLSRPTv1; rua=tlsrpt@tlsrpt-invalid.example",),),
        ),
        make(
            "tlsrpt-no-rua.example",
            "TLS-RPT record without rua",
            ["tlsrpt_invalid"],
            tlsrpt=(("v=TLSRPTv1;",),),
        ),
        make(
            "tlsrpt-multiple.example",
            "two TLS-RPT records",
            ["tlsrpt_multiple"],
            tlsrpt=(
                ("v=TLSRPTv1; rua=mailto:a@tlsrpt-multiple.example",),
                ("v=TLSRPTv1; rua=mailto:b@tlsrpt-multiple.example",),
            ),
        ),
    ]


def catalogue() -> list[Scenario]:
    """Every scenario, in a stable order; domains are unique."""
    return [
        *_healthy(),
        *_records(),
        *_policy_host(),
        *_policy_fetch(),
        *_policy_body(),
        *_mx(),
        *_tlsrpt(),
    ]


SCENARIOS: tuple[Scenario, ...] = tuple(catalogue())
BY_DOMAIN: dict[str, Scenario] = {s.domain: s for s in SCENARIOS}
DEMO: tuple[Scenario, ...] = tuple(s for s in SCENARIOS if s.demo)
