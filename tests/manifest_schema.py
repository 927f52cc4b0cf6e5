"""Slack's app manifest schema (vendored in tests/data) and a validator for it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPO = Path(__file__).parents[1]
SCHEMA = REPO / "tests/data/slack-manifest.schema.json"
# The project's shared folder, beside the checkout (or beside the worktrees' folder), if any.
SHARED = next(
    (
        folder / "shared/data/slack-manifest.schema.json"
        for folder in REPO.parents
        if (folder / "shared/data/slack-manifest.schema.json").exists()
    ),
    None,
)


def schema() -> dict[str, Any]:
    data = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data
