"""The checker core: async, knows nothing of Slack.

`check(domain, settings)` is the one entry point the CLI and the Slack app call,
and the one for scripts:

    import asyncio
    from bot.checker import Settings, check, normalise_domain

    report = asyncio.run(check(normalise_domain("Example.COM"), Settings.from_env()))
    print(report.status, [f.code for f in report.findings])

The names below are imported on first use (PEP 562), so importing one pure
module of the package (`bot.checker.domain`, say) does not load the network
side (dnspython, TLS): start-up is part of a check's speed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.checker.domain import DomainError, normalise_domain
    from bot.checker.engine import check
    from bot.checker.model import Finding, Report
    from bot.checker.settings import Nameserver, Settings, SettingsError

__all__ = [
    "DomainError",
    "Finding",
    "Nameserver",
    "Report",
    "Settings",
    "SettingsError",
    "check",
    "normalise_domain",
]

_HOMES = {
    "check": "bot.checker.engine",
    "Settings": "bot.checker.settings",
    "SettingsError": "bot.checker.settings",
    "Nameserver": "bot.checker.settings",
    "Report": "bot.checker.model",
    "Finding": "bot.checker.model",
    "normalise_domain": "bot.checker.domain",
    "DomainError": "bot.checker.domain",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:  # lets `from bot.checker import limits` find the submodule
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
