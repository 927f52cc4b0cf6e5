from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.checker.fixes import (
    did_you_mean,
    edit_distance,
    policy_text,
    sts_record,
    suggested_id,
    tlsrpt_record,
)


def test_suggested_id_is_utc_digits() -> None:
    assert suggested_id(datetime(2026, 11, 29, 10, 0, 0, tzinfo=UTC)) == "20261129100000"
    plus2 = timezone(timedelta(hours=2))
    assert suggested_id(datetime(2026, 11, 29, 12, 0, 0, tzinfo=plus2)) == "20261129100000"
    assert suggested_id(datetime(2026, 1, 2, 3, 4, 5)).isalnum()


def test_records() -> None:
    assert sts_record("20240101") == "v=STSv1; id=20240101"
    assert tlsrpt_record("Example.COM.") == "v=TLSRPTv1; rua=mailto:tls-reports@example.com"


def test_policy_text_shape() -> None:
    text = policy_text("enforce", ["MX1.example.com.", "mx2.example.com", "mx1.example.com"])
    assert text == (
        "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: mx2.example.com\nmax_age: 604800\n"
    )


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Mode", "mode"),
        ("nmx", "mx"),
        ("max-age", "max_age"),
        ("maxage", "max_age"),
        ("MX", "mx"),
        ("verison", "version"),
        ("mode", None),
        ("colour", None),
        ("", None),
        ("x" * 200, None),
    ],
)
def test_did_you_mean(word: str, expected: str | None) -> None:
    assert did_you_mean(word, ["version", "mode", "max_age", "mx"]) == expected


def test_edit_distance_counts_swaps_once() -> None:
    assert edit_distance("mial", "mail") == 1
    assert edit_distance("abc", "abc") == 0
    assert edit_distance("a", "abcdefgh", 2) == 3
