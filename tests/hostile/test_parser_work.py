"""Hostile text costs little CPU (issue 10, point 6), shown as work counted, not timed.

For every input of bot/testbed/hostile_text.CATALOGUE (the worst we know for each parser
that reads untrusted text), the work of one parse (`operations`: Python lines run and C
functions called, which no other load on the machine changes) at twice the size is at
most about twice the work: one linear pass, never a loop per field times the fields.
And it stays under one operation per input byte (a few for those that loop over what
they read: the MX names, the words of a Slack command, a report's entries). The CPU
time is in bench/parsers.py.
"""

from __future__ import annotations

import pytest

from bot.testbed.hostile_text import CATALOGUE, Hostile, operations


@pytest.mark.parametrize("item", CATALOGUE, ids=lambda h: f"{h.parser}/{h.name}")
def test_twice_the_input_is_at_most_twice_the_work(item: Hostile) -> None:
    half, full = item.make(item.largest // 2), item.make(item.largest)
    item.run(half)  # imports and compiled patterns are not the parse's work
    work_half, work_full = operations(item.run, half), operations(item.run, full)
    assert work_full <= 2.1 * work_half + 50, (work_half, work_full)
    size = len(full[0] if isinstance(full, tuple) else full)
    # The alignment compares 50 MX names as well; the Slack parser reads up to its own
    # MAX_TOKENS words (of at most MAX_TEXT_CHARS) one by one; a TLS-RPT report's entries
    # are each read into objects (JSON is decoded in C; a report is 10 MiB at most).
    per_byte = {"alignment": 4, "slack": 3, "report": 4}.get(item.parser, 1)
    assert work_full <= per_byte * max(size, 4096), work_full


def test_the_count_sees_a_loop_over_the_input() -> None:
    """The measure itself: a parse that loops in Python over its input shows it."""

    def naive(text: str) -> int:
        return sum(1 for field in text.split(";") if not field)

    assert operations(naive, ";" * 1000) > 1000
    assert operations(naive, ";" * 2000) > 1.9 * operations(naive, ";" * 1000)
