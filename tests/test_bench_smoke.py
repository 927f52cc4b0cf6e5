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

import pytest

from bench import latency, many, peers, slack_ack
from bench.common import median, percentile, table

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


def _rows(text: str, first_column: str) -> list[list[str]]:
    """The rows of the Markdown table whose first header cell is `first_column`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_column} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
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
    assert [r[0] for r in rows] == ["full (SMTP probes)", "smtp=False (--no-smtp)"]
    assert all(r[-1] == "pass" for r in rows)
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
    assert row[1] == "2"  # domains
    assert row[9] == "pass 2"  # statuses
    assert row[11] == "0"  # exit status
    assert row[8].endswith(" MB")  # peak RSS


@needs_low_ports
def test_slack_bench() -> None:
    text = slack_ack.run(3, [1, 2], 0.0)
    print(text)
    _check_header(text, "bench.slack_ack")
    rows = _rows(text, "results")
    assert [(r[0], r[1]) for r in rows] == [
        ("fresh", "1"),
        ("fresh", "2"),
        ("cached", "1"),
        (
            "cached",
            "2",
        ),
    ]
    for r in rows:
        assert r[2] == "3"  # requests
        assert r[8] == "0"  # missing results
        assert r[9] == "200: 3"  # every ack was an HTTP 200


@needs_low_ports
@pytest.mark.skipif(not peers.peers_installed(), reason="bench/.venv-peers is not installed")
@pytest.mark.skipif(not _can_bind(53), reason="cannot bind port 53 on loopback")
def test_peers_bench() -> None:
    text = peers.run(0.0, 1, quick=True)
    print(text)
    _check_header(text, "bench.peers")
    rows = _rows(text, "tool")
    assert len(rows) == len(peers.tools())
    assert all(r[-1] == "1/1" for r in rows), rows  # every tool saw the domain pass
    assert len(_rows(text, "peer")) == len(peers.PAIRS)
