"""Each bench runs end to end on a tiny input and prints its figures (structure only).

No timing is asserted: the figures are measured, never judged, here. The peer
bench is skipped when bench/.venv-peers is not installed (tests never download),
and the benches that need the standard ports (443/25/53, because the CLI, the
app and the peer tools cannot be given others) are skipped where they cannot be
bound. Everything stays on loopback.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import time

import pytest

from bench import latency, many, multi_instance, parsers, peers, slack_ack, startup, tlsrpt, watch
from bench.common import median, percentile, table
from bot.testbed.hostile_text import CATALOGUE

pytestmark = pytest.mark.slow


def _can_bind(port: int) -> bool:
    try:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.77.0.2", port))
    except OSError as exc:
        return exc.errno not in (errno.EACCES, errno.EPERM, errno.EADDRINUSE)
    return True


needs_low_ports = pytest.mark.skipif(
    not (_can_bind(443) and _can_bind(25)), reason="cannot bind ports 443 and 25 on loopback"
)


def _check_header(text: str, module: str) -> None:
    assert f"- machine: {os.cpu_count()} cores" in text
    assert re.search(r"- date: \d{4}-\d\d-\d\d \d\d:\d\d UTC", text)
    assert f"- reproduce: `.venv/bin/python -m {module}" in text


def _rows(text: str, first_column: str) -> list[dict[str, str]]:
    """The rows, by column name, of the Markdown table whose first header is `first_column`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_column} |"))
    names = [cell.strip() for cell in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(names, (c.strip() for c in line.strip("|").split("|")), strict=True)))
    return rows


def test_figure_helpers() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 99) == 99.0
    assert percentile([5.0], 99) == 5.0
    assert table(["a", "b"], [[1, 2]]).splitlines() == ["| a | b |", "|---|---|", "| 1 | 2 |"]


def test_latency_bench(capsys: pytest.CaptureFixture[str]) -> None:
    text = latency.run(0.0, 1, warmup=0)
    print(text)
    _check_header(text, "bench.latency")
    rows = _rows(text, "check")
    assert [r["check"] for r in rows] == ["full (SMTP probes)", "smtp=False (--no-smtp)"]
    assert all(r["status"] == "pass" for r in rows)
    assert "Critical path, full check (5 D)" in text
    assert "Timeline of one traced full check" in text
    assert "SMTP reply" in text
    assert "Bench 1" in capsys.readouterr().out


@needs_low_ports
def test_many_bench() -> None:
    text = many.run(2, [0.0])
    print(text)
    _check_header(text, "bench.many")
    (row,) = _rows(text, "D")
    assert row["domains"] == "2"
    assert row["statuses"] == "pass 2"
    assert row["exit"] == "0"
    assert row["CLI peak RSS"].endswith(" MB")


@needs_low_ports
def test_slack_bench() -> None:
    text = slack_ack.run(3, [1, 2], 0.0)
    print(text)
    _check_header(text, "bench.slack_ack")
    rows = _rows(text, "results")
    assert [(r["results"], r["concurrent"]) for r in rows] == [
        ("fresh", "1"),
        ("fresh", "2"),
        ("cached", "1"),
        ("cached", "2"),
    ]
    for r in rows:
        assert r["requests"] == "3"
        assert r["missing results"] == "0"
        assert r["HTTP status"] == "200: 3"  # every ack was an HTTP 200


@needs_low_ports
@pytest.mark.skipif(not peers.peers_installed(), reason="bench/.venv-peers is not installed")
@pytest.mark.skipif(not _can_bind(53), reason="cannot bind port 53 on loopback")
def test_peers_bench() -> None:
    text = peers.run(0.0, 1, quick=True)
    print(text)
    _check_header(text, "bench.peers")
    rows = _rows(text, "tool")
    assert len(rows) == len(peers.tools())
    assert all(r["ok"] == "1/1" for r in rows), rows  # every tool saw the domain pass
    assert len(_rows(text, "peer")) == len(peers.PAIRS)


def test_watch_bench_reads_the_app_log() -> None:
    start = 1_800_000_000.0
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(start))
    lines = [
        f"{stamp},250 INFO mtasts.watch watch check domain=a.x status=pass mode=enforce "
        "outcome=recorded check_ms=120.0 db_ms=3.5 claim_ms=1.0\n",
        f"{stamp},500 INFO mtasts.slack request kind=command name=/mtasts outcome=ok\n",
    ]
    (check,) = watch.parse_checks(lines, start)
    assert (check.domain, check.outcome, check.check_ms, check.db_ms) == (
        "a.x",
        "recorded",
        120,
        3.5,
    )
    assert check.at == pytest.approx(0.25)


def test_watch_bench_judges_the_schedule() -> None:
    def at(domain: str, *times: float) -> list[watch.Check]:
        return [watch.Check(t, domain, "recorded", 100.0, 2.0) for t in times]

    # a and b: once per interval after their baselines (b's last one ends just after the
    # interval's end: it still counts); c: checked twice in a row; d: only its baseline
    checks = at("a", 5, 70, 130) + at("b", 30, 89, 185) + at("c", 40, 70, 80) + at("d", 50)
    schedule = watch.judge(checks, ["a", "b", "c", "d"], 60.0, 3)
    assert schedule.counts == {(1, 1): 2, (2, 0): 1, (0, 0): 1}
    assert schedule.duplicates == 1
    assert schedule.gaps == [60.0, 96.0, 10.0]
    assert schedule.within == pytest.approx(1 / 3)
    assert schedule.db_share == pytest.approx(0.02)


@needs_low_ports
def test_watch_bench() -> None:
    text = watch.run(
        [
            "--domains", "4", "--interval", "1", "--intervals", "3", "--databases", "sqlite",
            "--edits", "1", "--requests", "2", "--level", "1", "--delay-ms", "0",
        ]
    )  # fmt: skip
    print(text)
    _check_header(text, "bench.watch")
    (row,) = _rows(text, "database")
    assert row["database"] == "sqlite"
    assert row["duplicate checks"] == "0"
    assert row["duplicate alerts"] == "0"
    assert row["app peak RSS"].endswith(" MB")
    acks = _rows(text, "app")
    assert [(r["app"], r["results"]) for r in acks] == [
        ("watching off", "fresh"),
        ("watching off", "cached"),
        ("watching 4 (sqlite)", "fresh"),
        ("watching 4 (sqlite)", "cached"),
    ]
    assert all(r["missing"] == "0" for r in acks)


def test_tlsrpt_bench() -> None:
    text = tlsrpt.run(0.2, 1)
    print(text)
    _check_header(text, "bench.tlsrpt")
    rows = _rows(text, "input")
    assert [r["input"] for r in rows] == ["report.json", "report.json.gz"]
    assert rows[0]["failure details"] == rows[1]["failure details"]
    assert all(r["total CPU"].startswith("**") for r in rows)


def test_parsers_bench() -> None:
    text = parsers.run(1)
    print(text)
    _check_header(text, "bench.parsers")
    rows = _rows(text, "parser")
    assert {r["parser"] for r in rows} == {h.parser for h in CATALOGUE}
    assert len(rows) == len(CATALOGUE)
    for r in rows:
        assert r["CPU per parse"].endswith(" ms")
        half, full = (int(n.replace(",", "")) for n in r["work (half / full)"].split(" / "))
        assert half > 0
        assert full > 0
    assert "Worst: " in text


@needs_low_ports
@pytest.mark.skipif(not peers.peers_installed(), reason="bench/.venv-peers is not installed")
@pytest.mark.skipif(not _can_bind(53), reason="cannot bind port 53 on loopback")
def test_startup_bench() -> None:
    text = startup.run(0.005, 1)
    print(text)
    _check_header(text, "bench.startup")
    rows = _rows(text, "ratio")
    assert [r["target"] for r in rows] == ["<= 0.8", "<= 3", "<= 1.3", "<= 1.3"]
    assert all(r["met"] in ("yes", "no") for r in rows)
    assert "1/1" in text  # the healthy domain passed for each tool
    assert _rows(text, "package")  # where the start-up time goes


async def test_multi_instance_bench(pg_url: str, redis_url: str) -> None:
    from real_services import test_database_url

    args = multi_instance.options(
        ["--instances", "2", "--parts", "once", "--once", "6", "--level", "3",
         "--delay-ms", "0", "--database", test_database_url(), "--redis", redis_url]
    )  # fmt: skip
    text = await multi_instance.run(args)
    print(text)
    _check_header(text, "bench.multi_instance")
    (once,) = _rows(text, "requests")
    assert (once["requests"], once["answered once"], once["never"]) == ("6", "6", "0")
    assert once["more than once"] == "0"


def test_multi_instance_report_of_the_scheduler() -> None:
    args = multi_instance.options(["--instances", "3", "--domains", "50", "--concurrency", "4"])
    rows = [
        multi_instance.Throughput(1, checks=40, seconds=2.0, cpu=0.5, delay_ms=100),
        multi_instance.Throughput(3, checks=110, seconds=2.0, cpu=1.5, delay_ms=100),
    ]
    text = multi_instance.report(args, [], None, rows)
    table_rows = _rows(text, "D")
    assert [(r["checks/s"], r["vs 1 instance"]) for r in table_rows] == [
        ("20.0", "1.00x"),
        ("55.0", "2.75x"),
    ]
    assert table_rows[1]["domains checked twice (db / logs)"] == "0 / 0"
    assert "at most 4 domains at once" in text
