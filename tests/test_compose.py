"""compose.yaml: two instances behind one port, sharing PostgreSQL and Redis.

Docker is not run here; the file's structure is checked against what Compose and the app
expect (the Compose Specification's keys, the app's own settings parser, the proxy's
upstreams), so that `docker compose up` starts what the README says it does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.slack.config import SlackConfig
from bot.slack.serve import DRAIN_CAP

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "compose.yaml"

# The Compose Specification's top-level keys, and the service keys this file may use.
TOP_LEVEL = {"name", "services", "networks", "volumes", "configs", "secrets", "include"}
SERVICE_KEYS = {
    "build", "command", "configs", "depends_on", "environment", "healthcheck", "image",
    "ports", "restart", "stop_grace_period", "volumes",
}  # fmt: skip
HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period", "disable"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _env(service: dict[str, Any], **secrets: str) -> dict[str, str]:
    """The service's environment as Compose would hand it over, with `secrets` exported."""
    out = {}
    for name, value in service["environment"].items():
        text = str(value)
        match = re.fullmatch(r"\$\{(\w+)(:[-?])([^}]*)\}", text)
        out[name] = secrets.get(match.group(1), "") if match else text
    return out


def test_only_keys_of_the_compose_specification(compose: dict[str, Any]) -> None:
    assert set(compose) - TOP_LEVEL <= {k for k in compose if k.startswith("x-")}
    for name, service in compose["services"].items():
        assert re.fullmatch(r"[a-zA-Z0-9._-]+", name)
        assert set(service) <= SERVICE_KEYS, name
        assert ("image" in service) != ("build" in service), name
        if "healthcheck" in service:
            assert set(service["healthcheck"]) <= HEALTHCHECK_KEYS
            assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")
        for needed, how in (service.get("depends_on") or {}).items():
            assert needed in compose["services"]
            assert how["condition"] in CONDITIONS
    for config in compose.get("configs", {}).values():
        assert set(config) <= {"content", "file", "environment", "external", "name"}


def test_two_app_instances_behind_one_published_port(compose: dict[str, Any]) -> None:
    services = compose["services"]
    apps = [name for name, s in services.items() if s.get("command") == ["mtasts", "serve"]]
    assert apps == ["app1", "app2"]
    assert services["app1"] == services["app2"]
    published = [name for name, s in services.items() if s.get("ports")]
    assert published == ["proxy"]
    assert len(services["proxy"]["ports"]) == 1
    nginx = compose["configs"]["nginx"]["content"]
    port = services["app1"]["environment"]["PORT"]
    assert re.findall(r"server (\S+):(\d+)", nginx) == [("app1", port), ("app2", port)]
    # Compose interpolates $; nginx's own variables must be written $$
    assert not re.search(r"(?<!\$)\$[a-z]", nginx)
    assert services["proxy"]["configs"][0]["target"].startswith("/etc/nginx/")


def test_the_instances_share_postgresql_and_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    env = _env(services["app1"], SLACK_SIGNING_SECRET="s", SLACK_BOT_TOKEN="xoxb-1")
    config = SlackConfig.from_env(env)
    assert config.redis_url == "redis://redis:6379/0"
    assert services["redis"]["image"].startswith("redis:7")
    db = re.fullmatch(r"postgresql://(\w+):(\w+)@postgres:5432/(\w+)", env["MTASTS_DATABASE_URL"])
    assert db is not None
    postgres = services["postgres"]["environment"]
    assert (db[1], db[2], db[3]) == (
        postgres["POSTGRES_USER"],
        postgres["POSTGRES_PASSWORD"],
        postgres["POSTGRES_DB"],
    )
    for needed in ("postgres", "redis"):
        assert services["app1"]["depends_on"][needed]["condition"] == "service_healthy"
        assert "healthcheck" in services[needed]


def test_one_workspace_or_oauth_from_the_same_file(compose: dict[str, Any]) -> None:
    app = compose["services"]["app1"]
    single = SlackConfig.from_env(
        _env(app, SLACK_SIGNING_SECRET="s", SLACK_BOT_TOKEN="xoxb-1", SLACK_CLIENT_ID="x")
    )
    assert single.oauth is None
    oauth = SlackConfig.from_env(
        _env(app, SLACK_SIGNING_SECRET="s", SLACK_CLIENT_ID="1.2", SLACK_CLIENT_SECRET="c")
    )
    assert oauth.oauth is not None
    assert oauth.oauth.redirect_uri is None  # the empty default means "not set"
    assert app["environment"]["SLACK_SIGNING_SECRET"].endswith(":?set SLACK_SIGNING_SECRET}")


def test_stop_grace_period_covers_the_drain(compose: dict[str, Any]) -> None:
    grace = compose["services"]["app1"]["stop_grace_period"]
    assert grace == "30s"
    assert DRAIN_CAP < 30


def test_the_image_runs_what_the_procfile_runs() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert 'CMD ["mtasts", "serve"]' in dockerfile
    assert (ROOT / "Procfile").read_text(encoding="utf-8").strip() == "web: mtasts serve"
    for copied in re.findall(r"^COPY (.+) \S+$", dockerfile, re.MULTILINE):
        for path in copied.split():
            assert (ROOT / path).exists(), path
