"""Any other event the app is subscribed to: acknowledged (by Bolt) and ignored quietly.

Without this, Bolt would log the whole payload as an unhandled request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Listener = Callable[[dict[str, Any]], Awaitable[None]]


def other_events() -> Listener:
    async def on_other_event(event: dict[str, Any]) -> None:
        return None

    return on_other_event
