"""`from bot.checker import check`: the library entry point, as a script uses it.

The README shows `check(normalise_domain(text), Settings.from_env())`; these tests run
exactly that, in this process and in a fresh interpreter, against the testbed.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

import bot.checker
from bot.checker import engine
from bot.checker.model import Report
from bot.testbed.bed import Testbed

SCRIPT = """
import asyncio, json, sys
from bot.checker import Settings, check, normalise_domain

report = asyncio.run(check(normalise_domain(sys.argv[1]), Settings.from_env()))
print(json.dumps({"type": type(report).__name__, "status": report.status,
                  "codes": sorted(f.code for f in report.findings)}))
"""


def _env(bed: Testbed) -> dict[str, str]:
    ns = bed.dns_address
    return {
        "MTASTS_NAMESERVERS": f"{ns.ip}:{ns.port}",
        "MTASTS_CA_FILE": bed.ca_file,
        "MTASTS_ALLOW_PRIVATE": "1",
        "MTASTS_TIMEOUT": "5",
        "MTASTS_TEST_HTTPS_PORT": str(bed.https_port),
        "MTASTS_TEST_SMTP_PORT": str(bed.smtp_port),
    }


def test_the_package_exports_the_engine_entry_point_and_its_companions() -> None:
    from bot.checker import (
        DomainError,
        Finding,
        Nameserver,
        Settings,
        SettingsError,
        check,
        normalise_domain,
    )

    assert check is engine.check
    assert Settings.__module__ == Nameserver.__module__ == "bot.checker.settings"
    assert Settings(nameservers=(Nameserver("192.0.2.53"),)).nameservers[0].port == 53
    assert issubclass(SettingsError, ValueError)
    assert issubclass(DomainError, ValueError)
    assert Finding.__module__ == "bot.checker.model"
    assert normalise_domain("Good.Example.") == "good.example"
    assert set(bot.checker.__all__) <= set(dir(bot.checker))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = bot.checker.nothing  # type: ignore[attr-defined]


async def test_check_with_settings_from_env_returns_the_report_as_objects(
    testbed: Testbed,
) -> None:
    from bot.checker import Settings, check, normalise_domain

    report = await check(normalise_domain("GOOD.example."), Settings.from_env(_env(testbed)))
    assert isinstance(report, Report)
    assert (report.domain, report.status, report.mode) == ("good.example", "pass", "enforce")
    assert report.findings == []
    assert {mx.host for mx in report.mx} == {"mx1.good.example", "mx2.good.example"}


async def test_a_script_in_a_fresh_interpreter_gets_the_report(testbed: Testbed) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SCRIPT, "backup-not-covered.example",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **_env(testbed)},
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    result = json.loads(out)
    assert result["type"] == "Report"
    assert result["status"] == "fail"
    assert result["codes"] == ["mx_not_covered"]
