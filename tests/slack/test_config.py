"""SlackConfig from the environment: what is required, defaults, and no secrets in repr."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.slack.config import (
    DEFAULT_API_URL,
    ConfigError,
    SlackConfig,
    default_port,
    port_argument,
    redact_url,
)

HTTP_ENV = {"SLACK_BOT_TOKEN": "xoxb-secret-bot", "SLACK_SIGNING_SECRET": "sig-secret-123"}


def test_http_mode_needs_bot_token_and_signing_secret() -> None:
    config = SlackConfig.from_env(HTTP_ENV)
    assert config.bot_token == "xoxb-secret-bot"
    assert config.signing_secret == "sig-secret-123"
    assert not config.socket_mode
    assert config.api_url == DEFAULT_API_URL
    assert config.cache_ttl == 300
    assert config.settings.timeout > 0


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_SIGNING_SECRET": "x"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "  ", "SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN"),
        ({**HTTP_ENV, "MTASTS_CACHE_TTL": "soon"}, "MTASTS_CACHE_TTL"),
        ({**HTTP_ENV, "MTASTS_CACHE_TTL": "-5"}, "MTASTS_CACHE_TTL"),
        ({**HTTP_ENV, "SLACK_API_URL": "ftp://x"}, "SLACK_API_URL"),
        ({**HTTP_ENV, "MTASTS_TIMEOUT": "forever"}, "MTASTS_TIMEOUT"),
        ({**HTTP_ENV, "REDIS_URL": "localhost:6379"}, "REDIS_URL"),
        ({**HTTP_ENV, "MTASTS_REDIS_PREFIX": "x" * 65}, "MTASTS_REDIS_PREFIX"),
    ],
)
def test_a_missing_or_bad_variable_is_named_in_one_line(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        SlackConfig.from_env(env)
    message = str(caught.value)
    assert named in message
    assert "\n" not in message


def test_socket_mode_needs_no_signing_secret() -> None:
    config = SlackConfig.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1-abc"})
    assert config.socket_mode
    assert config.signing_secret is None


def test_api_url_cache_ttl_and_checker_settings_are_read() -> None:
    config = SlackConfig.from_env(
        {
            **HTTP_ENV,
            "SLACK_API_URL": "http://127.0.0.1:9999/api",
            "MTASTS_CACHE_TTL": "42",
            "MTASTS_TIMEOUT": "3",
            "MTASTS_ALLOW_PRIVATE": "1",
            "MTASTS_NAMESERVERS": "127.0.0.1:5353",
        }
    )
    assert config.api_url == "http://127.0.0.1:9999/api/"
    assert config.cache_ttl == 42
    assert config.settings.timeout == 3
    assert config.settings.allow_private
    assert str(config.settings.nameservers[0]) == "127.0.0.1:5353"


def test_secrets_never_appear_in_repr_or_str() -> None:
    config = SlackConfig.from_env({**HTTP_ENV, "SLACK_APP_TOKEN": "xapp-secret-app"})
    for text in (repr(config), str(config), f"{config}", f"{config!r}"):
        assert "xoxb-secret-bot" not in text
        assert "sig-secret-123" not in text
        assert "xapp-secret-app" not in text
        assert "***" in text


def test_default_port() -> None:
    assert default_port({}) == 3000
    assert default_port({"PORT": "8080"}) == 8080
    with pytest.raises(ConfigError, match="PORT"):
        default_port({"PORT": "eighty"})


@pytest.mark.parametrize("port", ["70000", "0", "-1", "abc", "65536"])
def test_serve_with_a_bad_port_is_a_usage_error_not_a_traceback(
    port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--port", port])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "OverflowError" not in err
    errors = [line for line in err.splitlines() if not line.startswith("usage:")]
    assert len(errors) == 1
    assert f"'{port}' is not a port number (1 to 65535)" in errors[0]


def test_port_argument_accepts_every_port_number() -> None:
    assert port_argument("1") == 1
    assert port_argument("65535") == 65535
    assert port_argument(" 3000 ") == 3000


def test_redis_url_and_prefix_are_read_and_the_password_never_shown() -> None:
    assert SlackConfig.from_env(HTTP_ENV).redis_url is None
    env = {**HTTP_ENV, "REDIS_URL": "redis://:hunter2@cache:6379/1", "MTASTS_REDIS_PREFIX": "a:"}
    config = SlackConfig.from_env(env)
    assert (config.redis_url, config.redis_prefix) == ("redis://:hunter2@cache:6379/1", "a:")
    assert "hunter2" not in repr(config)
    assert "redis://:***@cache:6379/1" in repr(config)
    assert SlackConfig.from_env({**HTTP_ENV, "MTASTS_REDIS_PREFIX": " "}).redis_prefix == "mtasts:"
    with pytest.raises(ConfigError) as refused:
        SlackConfig.from_env({**HTTP_ENV, "REDIS_URL": "tcp://u:hunter2@cache"})
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://cache:6379/0", "redis://cache:6379/0"),
        ("rediss://user:pw@cache:6380/0", "rediss://user:***@cache:6380/0"),
        ("redis://cache:6379/0?password=pw", "redis://cache:6379/0?***"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
