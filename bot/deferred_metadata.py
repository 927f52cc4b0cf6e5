"""`importlib.metadata`, loaded on its first use rather than at import: `mtasts check`'s start-up.

dnspython's `dns._features` imports `importlib.metadata` (with `email`, `zipfile`,
`csv`: ~14 ms, a twentieth of a whole `mtasts check --no-smtp` process) only to
ask which optional packages are installed, which bot.checker.dns tells it
instead. `defer()` puts a stand-in module in its place: importing it costs
nothing, and the first attribute anyone reads from it imports the real module,
which then replaces the stand-in everywhere it is looked up. The standard
library's `LazyLoader` cannot do this on Python 3.11: the import statement
itself reads the module's `__spec__`, which makes it load.

Only `mtasts check` calls `defer()` (the server starts once; nothing to save).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

NAME = "importlib.metadata"
_lock = threading.RLock()


class _Deferred(types.ModuleType):
    """Stands in for `importlib.metadata` until an attribute it lacks is read."""

    def __getattr__(self, attr: str) -> Any:  # only for attributes it does not have
        return getattr(_load(), attr)

    def __dir__(self) -> list[str]:
        return dir(_load())


def _load() -> types.ModuleType:
    with _lock:
        current = sys.modules.get(NAME)
        if current is not None and not isinstance(current, _Deferred):
            return current
        sys.modules.pop(NAME, None)
        try:
            real = importlib.import_module(NAME)
        except BaseException:
            if current is not None:
                sys.modules[NAME] = current
            raise
        importlib.metadata = real
        if current is not None:  # references to the stand-in now see all of it too
            current.__dict__.update(real.__dict__)
        return real


def defer() -> None:
    """Install the stand-in, unless the real module is imported already."""
    if NAME in sys.modules:
        return
    spec = importlib.util.find_spec(NAME)
    if spec is None:
        return
    stub = _Deferred(NAME)
    stub.__spec__ = spec
    stub.__file__ = spec.origin
    stub.__path__ = list(spec.submodule_search_locations or [])
    stub.__package__ = NAME
    sys.modules[NAME] = stub
    importlib.metadata = stub  # as `import` would bind it
