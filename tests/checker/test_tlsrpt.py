import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.checker.tlsrpt import is_tlsrpt_record, parse_tlsrpt_record

SUBJECT = "_smtp._tls.example.com"


def test_is_tlsrpt_record() -> None:
    assert is_tlsrpt_record("v=TLSRPTv1; rua=mailto:a@example.com")
    assert is_tlsrpt_record("v=TLSRPTv1")
    assert not is_tlsrpt_record("v=TLSRPTv10; rua=mailto:a@example.com")
    assert not is_tlsrpt_record("v=STSv1; id=1")


@pytest.mark.parametrize(
    ("txt", "rua"),
    [
        ("v=TLSRPTv1; rua=mailto:tls@example.com", ["mailto:tls@example.com"]),
        (
            "v=TLSRPTv1;rua=mailto:a@example.com , https://r.example.com/x;",
            ["mailto:a@example.com", "https://r.example.com/x"],
        ),
        ("v=TLSRPTv1; rua=MAILTO:a@example.com; ext=1", ["MAILTO:a@example.com"]),
    ],
)
def test_valid(txt: str, rua: list[str]) -> None:
    assert parse_tlsrpt_record(txt, SUBJECT) == (rua, [])


@pytest.mark.parametrize(
    ("txt", "words", "fixed"),
    [
        ("v=TLSRPTv1", "no 'rua'", "rua=mailto:tls-reports@example.com"),
        ("v=TLSRPTv1; rua=", "'rua' is empty", "rua=mailto:tls-reports@example.com"),
        ("v=TLSRPTv1; rua=http://r.example.com/", "http: scheme", "tls-reports@"),
        ("v=TLSRPTv1; rua=tls@example.com", "no scheme", "rua=mailto:tls@example.com"),
        ("v=TLSRPTv1; rua=mailto:@example.com", "not a mail address", "tls-reports@"),
        ("v=TLSRPTv1; rua=mailto:a b@example.com", "whitespace", "tls-reports@"),
        ("v=TLSRPTv1; rua=mailto:a@b", "bad mail domain", "tls-reports@"),
        ("v=TLSRPTv1; RUA=mailto:a@example.com", "case-sensitive", "tls-reports@"),
        ("v=TLSRPTv1; rua = mailto:a@example.com", "whitespace around '='", "mailto:a@"),
        ("v=TLSRPTv1;; rua=mailto:a@example.com", "empty field", "mailto:a@"),
        ("v=TLSRPTv1; rua=mailto:a@example.com; x", "has no '='", "mailto:a@"),
        ("rua=mailto:a@example.com", "must begin", "mailto:a@"),
    ],
)
def test_invalid(txt: str, words: str, fixed: str) -> None:
    _, findings = parse_tlsrpt_record(txt, SUBJECT)
    assert findings
    assert all(f.code == "tlsrpt_invalid" and f.severity == "warning" for f in findings)
    assert any(words in f.message for f in findings), [f.message for f in findings]
    assert all(f.fix is not None and fixed in f.fix for f in findings)


def test_partly_usable_keeps_good_entries() -> None:
    rua, findings = parse_tlsrpt_record("v=TLSRPTv1; rua=mailto:a@example.com,ftp://x", SUBJECT)
    assert rua == ["mailto:a@example.com"]
    assert len(findings) == 1
    assert "ftp: scheme" in findings[0].message


@given(st.text(max_size=200))
def test_never_raises(txt: str) -> None:
    rua, findings = parse_tlsrpt_record(txt, SUBJECT)
    assert isinstance(rua, list)
    assert isinstance(findings, list)
