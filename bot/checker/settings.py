"""How a check is configured: resolver, trust anchors, private access, budget.

Flags win over the environment (`MTASTS_*`), which wins over the defaults.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from bot.checker import limits


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class Nameserver:
    ip: str
    port: int = 53

    def __str__(self) -> str:
        if ":" in self.ip:
            return f"[{self.ip}]:{self.port}"
        return f"{self.ip}:{self.port}"


def parse_nameserver(text: str) -> Nameserver:
    """Parse `IP`, `IP:PORT`, `[IPv6]:PORT` or a bare IPv6 address."""
    raw = text.strip()
    host, port = raw, 53
    if raw.startswith("["):
        end = raw.find("]")
        if end < 0:
            raise SettingsError(f"nameserver {text!r}: missing ']' after the IPv6 address")
        host, rest = raw[1:end], raw[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise SettingsError(f"nameserver {text!r}: expected ':PORT' after ']'")
            port = _port(text, rest[1:])
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
        port = _port(text, port_text)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise SettingsError(
            f"nameserver {text!r} is not an IP address (use IP or IP:PORT, e.g. 1.1.1.1:53)"
        ) from None
    return Nameserver(str(ip), port)


def _port(text: str, port_text: str) -> int:
    if not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
        raise SettingsError(f"{text!r}: the port must be a number from 1 to 65535")
    return int(port_text)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a check needs to know besides the domain."""

    nameservers: tuple[Nameserver, ...] = ()  # empty: the system's resolv.conf
    ca_file: str | None = None  # replaces the default trust store when set
    allow_private: bool = False  # permit loopback/private/link-local targets
    timeout: float = limits.DEFAULT_TIMEOUT  # whole budget of one domain's check
    concurrency: int = limits.DEFAULT_CONCURRENCY  # domains at once in multi-domain runs
    smtp: bool = True  # probe MX hosts over SMTP (`--no-smtp` turns it off)
    # For tests and the built-in testbed only: where the policy and SMTP servers listen.
    https_port: int = 443
    smtp_port: int = 25
    # Extra knobs for tests; not exposed on the command line.
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        validate: bool = True,
        overridden: Collection[str] = (),
    ) -> Settings:
        """Read the `MTASTS_*` environment variables; raises SettingsError on bad values.

        With `validate=False` the caller validates after applying its own overrides
        (command-line flags win over the environment, even over a bad value there);
        the variables named in `overridden` are not read at all.
        """
        env = os.environ if environ is None else environ
        if overridden:
            env = {k: v for k, v in env.items() if k not in overridden}
        kwargs: dict[str, object] = {}
        if ns := env.get("MTASTS_NAMESERVERS", "").strip():
            kwargs["nameservers"] = tuple(parse_nameserver(p) for p in ns.split(",") if p.strip())
        if ca := env.get("MTASTS_CA_FILE", "").strip():
            kwargs["ca_file"] = ca
        if env.get("MTASTS_ALLOW_PRIVATE", "").strip().lower() in {"1", "true", "yes", "on"}:
            kwargs["allow_private"] = True
        if t := env.get("MTASTS_TIMEOUT", "").strip():
            kwargs["timeout"] = parse_timeout(t, "MTASTS_TIMEOUT")
        # For tests and the built-in testbed only: where policy and SMTP servers listen.
        for name, key in (
            ("MTASTS_TEST_HTTPS_PORT", "https_port"),
            ("MTASTS_TEST_SMTP_PORT", "smtp_port"),
        ):
            if p := env.get(name, "").strip():
                kwargs[key] = _port(f"{name}={p}", p)
        settings = cls(**kwargs)  # type: ignore[arg-type]
        if validate:
            settings.validate()
        return settings

    def validate(self) -> None:
        if not 0.1 <= self.timeout <= 600:
            raise SettingsError(f"timeout {self.timeout}: use a number of seconds from 0.1 to 600")
        if not 1 <= self.concurrency <= 1000:
            raise SettingsError(f"concurrency {self.concurrency}: use a number from 1 to 1000")
        if self.ca_file is not None:
            if not os.path.isfile(self.ca_file):
                raise SettingsError(f"CA file {self.ca_file!r} does not exist or is not a file")
            try:
                ssl.create_default_context(cafile=self.ca_file)
            except (ssl.SSLError, OSError, ValueError) as exc:
                raise SettingsError(
                    f"CA file {self.ca_file!r} holds no usable PEM certificates ({exc})"
                ) from None


def parse_timeout(text: str, name: str = "--timeout") -> float:
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"{name} {text!r}: expected a number of seconds, e.g. 10") from None
    if not 0.1 <= value <= 600:
        raise SettingsError(f"{name} {text!r}: use a number of seconds from 0.1 to 600")
    return value
