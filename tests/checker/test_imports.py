"""What `mtasts check` imports: start-up is part of a check's speed (issue 10, point 7).

The CLI's check path must not load what a check does not need: the Slack side
(slack_bolt, slack_sdk), a general HTTP client (aiohttp: 110-275 ms to import on
our machine, for one GET), or cryptography (read only for invalid certificates).
bench/startup.py measures the time; this holds the line on what is loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("aiohttp", "slack_bolt", "slack_sdk", "cryptography", "sqlalchemy", "redis")


def _loaded(code: str) -> set[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return {name.split(".")[0] for name in json.loads(done.stdout)}


def test_a_check_loads_nothing_heavy_it_does_not_use() -> None:
    loaded = _loaded(
        "import bot.cli, bot.checker.engine, bot.checker.fetch, bot.checker.policy,"
        " bot.checker.txt_records, bot.checker.tls_step"
    )
    assert "dns" in loaded  # the check's own resolver, as a sanity check of the measure
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_the_package_and_its_pure_parsers_load_no_network_side() -> None:
    loaded = _loaded("import bot.checker, bot.checker.domain, bot.checker.record")
    assert "bot" in loaded
    assert not loaded & {"dns", "ssl", *HEAVY}, sorted(loaded & {"dns", "ssl", *HEAVY})
