"""`GET /healthz`: a small registry of named dependency checks.

Each check is an async probe saying whether one dependency works, and whether
the instance *needs* it (`required`): a required check that fails makes
`/healthz` answer 503, so a load balancer or orchestrator takes the instance
out; one that is not required is reported but keeps 200 (the instance still
answers, e.g. Redis down while its work falls back to this process). Probes run
concurrently, each within PROBE_TIMEOUT; one that raises or hangs counts as down.

Adding a dependency is one line, e.g. `health.add("database", store.ping, required=True)`.

The body: `{"ok": bool, <fields given at creation, e.g. "mode">, "checks":
{name: {"ok": bool, "required": bool, <the probe's details>}}}`. Details never
carry secrets (no URLs with passwords, no tokens): only states and error types.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

PROBE_TIMEOUT = 2.0  # seconds; orchestrators' probes typically time out after 1 to 5 s


@dataclass(frozen=True, slots=True)
class Probed:
    ok: bool
    details: dict[str, Any] = field(default_factory=dict)


Probe = Callable[[], Awaitable[Probed]]


@dataclass(frozen=True, slots=True)
class _Check:
    probe: Probe
    required: bool


class Health:
    def __init__(self, *, timeout: float = PROBE_TIMEOUT, **fields: Any) -> None:
        self._checks: dict[str, _Check] = {}
        self._timeout = timeout
        self.fields = dict(fields)  # shown at the top level, e.g. mode="http"

    def add(self, name: str, probe: Probe, *, required: bool) -> None:
        """Register (or replace) the check called `name`."""
        self._checks[name] = _Check(probe, required)

    def names(self) -> list[str]:
        return list(self._checks)

    async def report(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, body): healthy unless a required check is down."""
        names = list(self._checks)
        results = await asyncio.gather(*(self._run(self._checks[n].probe) for n in names))
        checks = {
            name: {"ok": result.ok, "required": self._checks[name].required, **result.details}
            for name, result in zip(names, results, strict=True)
        }
        ok = all(c["ok"] for c in checks.values() if c["required"])
        return ok, {"ok": ok, **self.fields, "checks": checks}

    async def _run(self, probe: Probe) -> Probed:
        try:
            async with asyncio.timeout(self._timeout):
                return await probe()
        except TimeoutError:
            return Probed(False, {"error": "timeout"})
        except Exception as exc:  # a probe that breaks says its dependency is down
            return Probed(False, {"error": type(exc).__name__})
