"""Watch tests: the Slack app harness of tests/slack is importable from here too."""

from __future__ import annotations

import sys
from pathlib import Path

_SLACK_TESTS = str(Path(__file__).resolve().parent.parent / "slack")
if _SLACK_TESTS not in sys.path:
    sys.path.insert(0, _SLACK_TESTS)
