import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.checker.model import Finding
from bot.checker.record import is_sts_record, parse_sts_record

SUBJECT = "_mta-sts.example.com"


@pytest.mark.parametrize(
    ("txt", "expected"),
    [
        ("v=STSv1; id=1", True),
        ("v=STSv1;id=1", True),
        ("v=STSv1 ; id=1", True),
        ("v=STSv1 id=1", False),  # RFC 8461 §3.1: records not beginning "v=STSv1;" are discarded
        ("v=STSv1", False),
        ("v=STSv1x; id=1", False),
        ("v=stsv1; id=1", False),
        (" v=STSv1; id=1", False),
        ("id=1; v=STSv1", False),
        ("v=spf1 -all", False),
    ],
)
def test_is_sts_record(txt: str, expected: bool) -> None:
    from bot.checker.record import looks_like_sts_record

    if txt in ("v=STSv1 id=1", "v=STSv1"):
        assert looks_like_sts_record(txt)
    assert is_sts_record(txt) is expected


@pytest.mark.parametrize(
    ("txt", "id_"),
    [
        ("v=STSv1; id=20240101", "20240101"),
        ("v=STSv1;id=abc;", "abc"),
        ("v=STSv1; id=abc ; ", "abc"),
        ("v=STSv1; id=" + "a" * 32, "a" * 32),
        ("v=STSv1; id=1; foo=bar; x_y.z-1=a:b", "1"),
        ("v=STSv1; id=1; id=2-2", "1"),
    ],
)
def test_valid_records(txt: str, id_: str) -> None:
    assert parse_sts_record(txt, SUBJECT) == (id_, [])


@pytest.mark.parametrize(
    ("txt", "words", "fixed"),
    [
        ("v=STSv1; id=2024-01-01", "contains '-'", "v=STSv1; id=20240101"),
        ("v=STSv1; id=" + "a" * 33, "33 characters", "v=STSv1; id=" + "a" * 32),
        ("v=STSv1", "no 'id'", "v=STSv1; id="),
        ("v=STSv1; ID=1", "case-sensitive", "v=STSv1; id="),
        ("id=1; v=STSv1", "must begin with exactly 'v=STSv1'", "v=STSv1; id=1"),
        ("v=STSv1; id = 1", "whitespace around '='", "v=STSv1; id=1"),
        ("v=STSv1 id=1", "separated by ';'", "v=STSv1; id=1"),
        ("v=STSv1;; id=1", "empty field", "v=STSv1; id=1"),
        ("v=STSv1; id=1; -x=1", "field name '-x' is malformed", "v=STSv1; id=1"),
        ("v=STSv1; id=1; x=a b", "value of 'x' contains ' '", "v=STSv1; id=1"),
        ("v=STSv1; id=1; x", "has no '='", "v=STSv1; id=1"),
        ("v=STSv1; id=1 ", "ends in whitespace", "v=STSv1; id=1"),
        ("v=STSv1; id=", "id is empty", "v=STSv1; id="),
    ],
)
def test_invalid_records(txt: str, words: str, fixed: str) -> None:
    id_, findings = parse_sts_record(txt, SUBJECT)
    assert id_ is None
    assert findings
    assert all(f.code == "record_invalid" and f.subject == SUBJECT for f in findings)
    assert any(words in f.message for f in findings), [f.message for f in findings]
    assert all(f.fix is not None and fixed in f.fix for f in findings)


def test_findings_are_capped() -> None:
    _, findings = parse_sts_record("v=STSv1" + "; -x=1" * 100 + "; id=1", SUBJECT)
    assert len(findings) == 21
    assert findings[-1].message.startswith("And 80 more")


@given(st.text(max_size=200))
def test_never_raises(txt: str) -> None:
    id_, findings = parse_sts_record(txt, SUBJECT)
    assert (id_ is None) == bool(findings)
    assert id_ is None or (id_.isalnum() and len(id_) <= 32)
    assert all(isinstance(f, Finding) for f in findings)


@given(st.from_regex(r"[A-Za-z0-9]{1,32}", fullmatch=True))
def test_generated_records_are_valid(id_: str) -> None:
    assert parse_sts_record(f"v=STSv1; id={id_}", SUBJECT) == (id_, [])
