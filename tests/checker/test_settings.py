"""Settings: what a person or a container passes, and the errors they get back."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.checker.settings import Nameserver, Settings, SettingsError, parse_nameserver


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.1.1.1", Nameserver("1.1.1.1", 53)),
        ("127.0.0.1:5353", Nameserver("127.0.0.1", 5353)),
        ("[::1]:5353", Nameserver("::1", 5353)),
        ("2001:db8::53", Nameserver("2001:db8::53", 53)),
    ],
)
def test_nameserver_forms(text: str, expected: Nameserver) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize("text", ["dns.example", "1.2.3.4:0", "1.2.3.4:70000", "1.2.3.4:²", "[::1"])
def test_bad_nameserver_is_a_settings_error(text: str) -> None:
    with pytest.raises(SettingsError):
        parse_nameserver(text)


def test_a_ca_file_without_certificates_is_a_settings_error(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    with pytest.raises(SettingsError, match="no usable PEM certificates"):
        Settings(ca_file=str(bogus)).validate()


def test_environment_is_read_and_flags_can_fix_it_later(tmp_path: Path) -> None:
    env = {
        "MTASTS_NAMESERVERS": "127.0.0.1:5353, [::1]",
        "MTASTS_ALLOW_PRIVATE": "1",
        "MTASTS_TIMEOUT": "3.5",
        "MTASTS_CA_FILE": str(tmp_path / "missing.pem"),
    }
    settings = Settings.from_env(env, validate=False)
    assert settings.nameservers == (Nameserver("127.0.0.1", 5353), Nameserver("::1", 53))
    assert settings.allow_private
    assert settings.timeout == 3.5
    with pytest.raises(SettingsError, match=r"missing\.pem"):
        Settings.from_env(env)  # validated by default


@pytest.mark.parametrize("value", ["0", "0.05", "601", "soon"])
def test_timeout_outside_its_range_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match=r"seconds"):
        Settings.from_env({"MTASTS_TIMEOUT": value})


def test_a_flag_wins_over_a_bad_value_of_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli import _parser, checker_settings

    monkeypatch.setenv("MTASTS_TIMEOUT", "soon")
    monkeypatch.setenv("MTASTS_NAMESERVERS", "not-an-ip")
    args = _parser().parse_args(
        ["check", "--timeout", "5", "--nameserver", "127.0.0.1:5353", "a.example"]
    )
    settings = checker_settings(args)
    assert settings.timeout == 5
    assert settings.nameservers == (Nameserver("127.0.0.1", 5353),)
    # without the flag, the bad value is reported, naming the variable
    with pytest.raises(SettingsError, match="MTASTS_TIMEOUT"):
        checker_settings(_parser().parse_args(["check", "--nameserver", "127.0.0.1", "a.example"]))
