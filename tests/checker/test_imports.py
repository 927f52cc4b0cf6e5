"""What `mtasts check` imports: start-up is part of a check's speed (issue 10, point 7).

The CLI's check path must not load what a check does not need: the Slack side
(slack_bolt, slack_sdk), a general HTTP client (aiohttp: 110-275 ms to import on
our machine, for one GET), or cryptography (read only for invalid certificates).
bench/startup.py measures the time; this holds the line on what is loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bot.testbed.bed import Testbed

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


def test_a_whole_check_process_never_loads_importlib_metadata(testbed: Testbed) -> None:
    """dnspython imports importlib.metadata (~14 ms, with zipfile and csv) to learn what is
    installed; `mtasts check` tells it instead, and defers the module until used."""
    ns = testbed.dns_address
    script = (
        "import json, sys\n"
        "from bot.cli import main\n"
        f"code = main(['check', '--no-smtp', '--json', '--nameserver', '{ns.ip}:{ns.port}',"
        f" '--ca-file', {testbed.ca_file!r}, '--allow-private', 'good.example'])\n"
        "real = type(sys.modules.get('importlib.metadata')).__name__ == 'module'\n"
        "print(json.dumps([code, real]), file=sys.stderr)\n"
    )
    env = {**os.environ, "MTASTS_TEST_HTTPS_PORT": str(testbed.https_port)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env
    )
    report = json.loads(done.stdout)
    assert (report["domain"], report["policy"]["mode"]) == ("good.example", "enforce")
    assert json.loads(done.stderr.strip().splitlines()[-1]) == [0, False]


def test_the_deferred_module_is_the_real_one_when_used() -> None:
    script = (
        "import importlib, sys\n"
        "import bot.deferred_metadata as d\n"
        "d.defer()\n"
        "import importlib.metadata as m\n"
        "from importlib.metadata import version\n"
        "print(m.version('dnspython') == version('dnspython'),"
        " sys.modules['importlib.metadata'] is importlib.metadata,"
        " type(sys.modules['importlib.metadata']).__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["True", "True", "module"]
