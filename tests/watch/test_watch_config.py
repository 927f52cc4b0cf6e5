"""MTASTS_WATCH_* settings: defaults, bounds, one-line errors naming the variable."""

from __future__ import annotations

import pytest

from bot.slack.config import ConfigError
from bot.watch.config import DEFAULT_LEASE, LEASE_MARGIN, WatchConfig, check_bound


def test_defaults() -> None:
    config = WatchConfig.from_env({})
    assert config == WatchConfig(enabled=True, interval=3600, confirm=2, limit=200, concurrency=32)


def test_values_are_read() -> None:
    config = WatchConfig.from_env(
        {
            "MTASTS_WATCH": "off",
            "MTASTS_WATCH_INTERVAL": "60",
            "MTASTS_WATCH_CONFIRM": "3",
            "MTASTS_WATCH_LIMIT": "1000",
            "MTASTS_WATCH_CONCURRENCY": "20",
        }
    )
    assert config == WatchConfig(enabled=False, interval=60, confirm=3, limit=1000, concurrency=20)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("MTASTS_WATCH", "maybe", "use on or off"),
        ("MTASTS_WATCH_INTERVAL", "59", "use 60 to 604800"),
        ("MTASTS_WATCH_INTERVAL", "1h", "expected a whole number"),
        ("MTASTS_WATCH_CONFIRM", "0", "use 1 to 10"),
        ("MTASTS_WATCH_LIMIT", "-1", "expected a whole number"),
        ("MTASTS_WATCH_CONCURRENCY", "1000", "use 1 to 200"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        WatchConfig.from_env({name: value})
    message = str(caught.value)
    assert message.startswith(f"{name} {value!r}")
    assert says in message


def test_the_demo_may_go_below_a_minute_but_only_in_code() -> None:
    assert WatchConfig(interval=1.0).interval == 1.0  # no env var reaches this


@pytest.mark.parametrize("timeout", [0.1, 10, 25, 26, 120, 600])
def test_the_lease_outlasts_the_longest_check_of_the_budget(timeout: float) -> None:
    """A claim must not run out while its check may still be running (another instance
    would check the domain too): MTASTS_TIMEOUT may be up to 600 s."""
    lease = WatchConfig.from_env({}, check_timeout=timeout).lease
    assert lease >= check_bound(timeout) + LEASE_MARGIN
    assert lease >= DEFAULT_LEASE
    assert WatchConfig.from_env({}).lease == DEFAULT_LEASE
