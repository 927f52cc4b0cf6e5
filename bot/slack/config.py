"""The Slack app's configuration, read from the environment.

`SLACK_BOT_TOKEN` is always required; `SLACK_SIGNING_SECRET` in HTTP mode;
`SLACK_APP_TOKEN` selects Socket Mode; `REDIS_URL` moves the state instances
share into Redis. Tokens, the signing secret and a password in `REDIS_URL`
never appear in `repr()` or in logs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from bot.checker.settings import Settings, SettingsError

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_CACHE_TTL = 300.0
DEFAULT_PORT = 3000
DEFAULT_REDIS_PREFIX = "mtasts:"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
MAX_REDIS_PREFIX = 64


class ConfigError(ValueError):
    """A required variable is missing or unusable; the message is one line naming it."""


@dataclass(frozen=True, slots=True)
class SlackConfig:
    bot_token: str = field(repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    cache_ttl: float = DEFAULT_CACHE_TTL
    settings: Settings = field(default_factory=Settings)
    redis_url: str | None = field(default=None, repr=False)
    redis_prefix: str = DEFAULT_REDIS_PREFIX

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    def __repr__(self) -> str:
        mode = "socket" if self.socket_mode else "http"
        return (
            f"SlackConfig(mode={mode}, api_url={self.api_url!r}, "
            f"cache_ttl={self.cache_ttl}, bot_token=***, signing_secret="
            f"{'***' if self.signing_secret else None}, app_token="
            f"{'***' if self.app_token else None}, redis="
            f"{redact_url(self.redis_url) if self.redis_url else None})"
        )

    __str__ = __repr__

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SlackConfig:
        """Read the environment; raises ConfigError naming the first bad variable."""
        env = os.environ if environ is None else environ
        bot_token = _get(env, "SLACK_BOT_TOKEN")
        if bot_token is None:
            raise ConfigError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-...)")
        app_token = _get(env, "SLACK_APP_TOKEN")
        signing_secret = _get(env, "SLACK_SIGNING_SECRET")
        if app_token is None and signing_secret is None:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set (required in HTTP mode; "
                "set SLACK_APP_TOKEN instead for Socket Mode)"
            )
        api_url = _get(env, "SLACK_API_URL") or DEFAULT_API_URL
        if not api_url.startswith(("http://", "https://")):
            raise ConfigError(f"SLACK_API_URL {api_url!r} is not an http(s) URL")
        if not api_url.endswith("/"):
            api_url += "/"
        cache_ttl = DEFAULT_CACHE_TTL
        if (ttl_text := _get(env, "MTASTS_CACHE_TTL")) is not None:
            cache_ttl = _parse_ttl(ttl_text)
        redis_url = _get(env, "REDIS_URL")
        if redis_url is not None and not redis_url.startswith(REDIS_SCHEMES):
            raise ConfigError(
                f"REDIS_URL {redact_url(redis_url)!r} is not a redis://, rediss:// or unix:// URL"
            )
        redis_prefix = _get(env, "MTASTS_REDIS_PREFIX") or DEFAULT_REDIS_PREFIX
        if len(redis_prefix) > MAX_REDIS_PREFIX:
            raise ConfigError(
                f"MTASTS_REDIS_PREFIX: use 1 to {MAX_REDIS_PREFIX} characters, e.g. mtasts:"
            )
        try:
            settings = Settings.from_env(env)
        except SettingsError as exc:
            raise ConfigError(str(exc).splitlines()[0]) from None
        return cls(
            bot_token=bot_token,
            signing_secret=signing_secret,
            app_token=app_token,
            api_url=api_url,
            cache_ttl=cache_ttl,
            settings=settings,
            redis_url=redis_url,
            redis_prefix=redis_prefix,
        )


def redact_url(url: str) -> str:
    """`url` with its password (if any) replaced by ***."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(unreadable URL)"
    if "password" in parts.query:
        parts = parts._replace(query="***")
    if password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{password}@", ":***@"))
    return urlunsplit(parts)


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _parse_ttl(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(
            f"MTASTS_CACHE_TTL {text!r}: expected a number of seconds, e.g. 300"
        ) from None
    if not 0 <= value <= 86400:
        raise ConfigError(f"MTASTS_CACHE_TTL {text!r}: use a number of seconds from 0 to 86400")
    return value


def default_port(environ: Mapping[str, str] | None = None) -> int:
    """`$PORT` if set, else 3000; raises ConfigError when PORT is not a port number."""
    env = os.environ if environ is None else environ
    text = env.get("PORT", "").strip()
    if not text:
        return DEFAULT_PORT
    if not text.isdigit() or not 0 <= int(text) < 65536:
        raise ConfigError(f"PORT {text!r} is not a port number (0 to 65535; 0 picks a free one)")
    return int(text)


def port_argument(text: str) -> int:
    """argparse `type=` of `mtasts serve --port`: a port number from 1 to 65535."""
    import argparse

    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535)")
    return int(value)
