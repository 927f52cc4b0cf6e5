"""What a person pastes, turned into the domain to check (lower-case A-labels).

`normalise_domain` accepts the forms people and Slack actually produce (a bare
name, an e-mail address, a URL, Slack's `<http://x|x>` links, an IDN, with
quotes or trailing punctuation around it) and refuses anything that is not a
domain with a `DomainError` naming the input and the rule it breaks.

IDNs go through UTS 46 mapping (non-transitional, STD3 rules) and IDNA 2008
validation with the `idna` package, which already refuses symbols, joiners in
the wrong context and bidi mix-ups. On top of that a label mixing Latin,
Greek and Cyrillic letters (`pаypal` with a Cyrillic `а`) is refused:
registries do not allow such labels, and they are the classic look-alike.
Whole-script look-alikes (a label entirely in Cyrillic) are valid names and
accepted; the A-label in the report shows what was checked.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import NoReturn

import idna

from bot.checker import limits

_EXAMPLE = "give the mail domain, e.g. example.com"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_LEADING_JUNK = "\"'`‘“«("
_TRAILING_JUNK = "\"'`’”»),.;:!?"
_LDH = re.compile(r"^[a-z0-9-]+$")
_CONFUSABLE_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")


class DomainError(ValueError):
    """The input is not a domain. `input` is what was given, `rule` what it breaks.

    `kind` is a short stable name for the rule (`empty`, `ip_address`,
    `single_label`, `empty_label`, `label_too_long`, `name_too_long`,
    `bad_character`, `hyphen`, `idna`, `mixed_script`, `numeric_tld`).
    """

    def __init__(self, text: str, rule: str, kind: str = "invalid") -> None:
        self.input = text
        self.rule = rule
        self.kind = kind
        super().__init__(f"{show(text)} is not a domain: {rule}")


def show(text: str, limit: int = limits.SHOWN_INPUT_CHARS) -> str:
    """`text` quoted for a one-line message: control characters escaped, long text cut."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text)} characters)"


def normalise_domain(text: str) -> str:
    """Turn pasted text into a lower-case A-label domain without the trailing dot.

    Raises DomainError (a ValueError) when the text is not a domain.
    """
    if len(text) > limits.MAX_DOMAIN_INPUT:
        raise DomainError(
            text, "far too long to be a domain (a name is at most 253 octets)", "name_too_long"
        )
    host = _extract_host(text)
    if not host:
        raise DomainError(text, f"there is nothing there; {_EXAMPLE}", "empty")
    _refuse_ip(text, host)
    _refuse_bad_characters(text, host)
    if host.isascii():  # letters, digits, hyphens and dots by now: UTS 46 only lowers them
        mapped = host.lower()
    else:
        try:
            mapped = idna.uts46_remap(host, std3_rules=True, transitional=False)
        except (idna.IDNAError, UnicodeError, ValueError) as exc:
            raise DomainError(text, f"not a valid internationalised name ({exc})", "idna") from None
    mapped = mapped.removesuffix(".")
    _refuse_ip(text, mapped)
    labels = mapped.split(".")
    if any(not label for label in labels):
        raise DomainError(
            text, "it has an empty label (two dots in a row, or a leading dot)", "empty_label"
        )
    if len(labels) == 1:
        raise DomainError(
            text,
            f"a single label ({labels[0]!r}) is not a public domain; {_EXAMPLE}",
            "single_label",
        )
    if len(mapped) > 253 and not mapped.isascii():
        _refuse_long_idn(text, labels)
    alabels = [_alabel(text, label) for label in labels]
    if alabels[-1].isdigit():
        raise DomainError(
            text,
            f"the last label {alabels[-1]!r} is all digits, and no top-level domain is",
            "numeric_tld",
        )
    name = ".".join(alabels)
    if len(name) > 253:
        raise DomainError(
            text, f"it is {len(name)} octets long; a domain name is at most 253", "name_too_long"
        )
    return name


def _refuse_long_idn(text: str, labels: list[str]) -> None:
    """A name of IDN labels longer than 253 characters is too long as A-labels too (each
    A-label is at least as long as its U-label): say so without encoding them (IDNA
    encoding costs microseconds per character, and the input is anyone's)."""
    for label in labels:
        if label.isascii():
            _alabel(text, label)
        elif len(label) > 63:
            _long_label(text, label, "over 63")
    if labels[-1].isdigit():
        _alabel(text, labels[-1])
        raise DomainError(
            text,
            f"the last label {labels[-1]!r} is all digits, and no top-level domain is",
            "numeric_tld",
        )
    length = len(".".join(labels))
    raise DomainError(
        text,
        f"it is more than {length} octets long; a domain name is at most 253",
        "name_too_long",
    )


def _long_label(text: str, label: str, octets: str) -> NoReturn:
    raise DomainError(
        text,
        f"the label {_cut(label)!r} is {octets} octets long; a label is at most 63",
        "label_too_long",
    )


def _extract_host(text: str) -> str:
    """Peel Slack links, quotes, punctuation, schemes, paths, ports and mailboxes."""
    host = text
    for _ in range(8):  # each round peels one layer; real input needs two or three
        before = host
        host = host.strip()
        if host.startswith("<") and host.endswith(">") and len(host) >= 2:
            host = host[1:-1].split("|", 1)[0]
        if _is_ip(host):
            return host
        host = host.lstrip(_LEADING_JUNK).rstrip(_TRAILING_JUNK)
        if host == before:
            break
    if match := _SCHEME.match(host):
        host = host[match.end() :]
        host = re.split(r"[/?#]", host, maxsplit=1)[0]
        host = host.rsplit("@", 1)[-1]
        host = _strip_port(host)
    elif host[:7].lower() == "mailto:":
        host = host[7:].split("?", 1)[0]
    if "@" in host:
        host = host.rsplit("@", 1)[1]
    return host


def _strip_port(host: str) -> str:
    if host.startswith("[") and "]" in host:
        return host[: host.index("]") + 1]
    if host.count(":") == 1:
        name, port = host.split(":")
        if port.isdigit() or not port:
            return name
    return host


def _is_ip(host: str) -> bool:
    if host.startswith("[") and "]" in host:
        return True  # an address literal, perhaps with a port after it
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _refuse_ip(text: str, host: str) -> None:
    if _is_ip(host):
        raise DomainError(text, f"an IP address; {_EXAMPLE}", "ip_address")


def _refuse_bad_characters(text: str, host: str) -> None:
    for char in dict.fromkeys(host):  # each character once, in order
        if unicodedata.category(char) in ("Cc", "Cf") and char not in "\u200c\u200d":
            raise DomainError(text, f"it contains the control character {char!r}", "bad_character")
        if char.isspace():
            raise DomainError(text, "it contains a space; give one domain", "bad_character")
        if char == "_":
            hint = (
                "; give the mail domain itself, not the record name"
                if host.lower().startswith(("_mta-sts.", "_smtp._tls."))
                else ""
            )
            raise DomainError(
                text,
                "it contains an underscore, and host names allow only letters, digits"
                f" and hyphens{hint}",
                "bad_character",
            )
        if char.isascii() and not (char.isalnum() or char in "-."):
            raise DomainError(
                text,
                f"it contains {char!r}; a domain has only letters, digits, hyphens and dots",
                "bad_character",
            )


def _alabel(text: str, label: str) -> str:
    """One label as its A-label, with the label rules checked."""
    if label.isascii():
        alabel = label.lower()
        if not _LDH.match(alabel):
            raise DomainError(
                text, f"the label {label!r} has characters a domain cannot have", "bad_character"
            )
        if alabel.startswith("xn--"):
            try:
                ulabel = idna.ulabel(alabel)
                if idna.alabel(ulabel).decode("ascii") != alabel:
                    raise idna.IDNAError("it does not round-trip")
            except (idna.IDNAError, UnicodeError, ValueError) as exc:
                raise DomainError(
                    text, f"the label {label!r} is not a valid IDNA A-label ({exc})", "idna"
                ) from None
            _refuse_mixed_script(text, ulabel)
    else:
        if len(label) > 63:  # as an A-label longer still: no need to encode it
            _long_label(text, label, "over 63")
        _refuse_mixed_script(text, label)
        try:
            alabel = idna.alabel(label).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError) as exc:
            raise DomainError(
                text, f"the label {label!r} is not valid IDNA 2008 ({exc})", "idna"
            ) from None
    if alabel.startswith("-") or alabel.endswith("-"):
        raise DomainError(text, f"the label {label!r} starts or ends with a hyphen", "hyphen")
    if len(alabel) > 63:
        _long_label(text, label, str(len(alabel)))
    return alabel


def _refuse_mixed_script(text: str, label: str) -> None:
    scripts: dict[str, str] = {}
    for char in dict.fromkeys(label):
        if not char.isalpha():
            continue
        script = unicodedata.name(char, "").split(" ", 1)[0]
        if script in _CONFUSABLE_SCRIPTS:
            scripts.setdefault(script, char)
    if len(scripts) > 1:
        parts = " and ".join(f"{s.title()} ({c!r})" for s, c in scripts.items())
        raise DomainError(
            text,
            f"the label {label!r} mixes {parts} letters, which registries do not allow"
            " because it imitates another name",
            "mixed_script",
        )


def _cut(label: str) -> str:
    return label if len(label) <= 24 else label[:20] + "…"
