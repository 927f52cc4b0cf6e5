"""The README stays true: its two commands, its finding codes and its settings."""

from __future__ import annotations

import re
from pathlib import Path

from bot.checker.findings import CODES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_first_code_block_is_exactly_the_two_commands() -> None:
    block = README.split("```", 2)[1]
    lines = [line for line in block.splitlines() if line.strip()]
    assert len(lines) == 2
    assert lines[0].endswith("mtasts demo")
    assert "pytest" in lines[1]
    # CI runs the README's second command, not a copy of it.
    assert "sed -n 2p" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_finding_code_is_documented() -> None:
    missing = [code for code in CODES if f"`{code}`" not in README]
    assert missing == []


def test_every_environment_variable_the_code_reads_is_documented() -> None:
    names: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        if "testbed" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"\"((?:SLACK|MTASTS)_[A-Z_]+)\"", text))
    assert names, "expected the code to read SLACK_* and MTASTS_* variables"
    undocumented = sorted(n for n in names if f"`{n}`" not in README)
    assert undocumented == []
