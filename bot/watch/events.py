"""What changed between two states of a domain: the alert events (pure).

`detect(previous, new, seq)` returns the new state (with its incidents
updated) and the events, in the order they are posted:

- `worse`: the status got worse (pass → warn, pass → fail, warn → fail), or a usable
  policy stopped being usable (whatever the status was). It
  names the new findings that no more specific event below explains; when
  they all are explained, the first specific event carries the news instead.
- `mode_changed`: the usable policy's mode differs from the one senders
  cached (a policy that stopped being usable is `worse`, not this).
- `policy_changed_same_id`: the usable policy's body changed (line endings
  and trailing whitespace aside) while the record's `id` did not.
- `mx_changed`: MX hosts were added or removed (not when the lookup failed).
- `cert_expiring`: a certificate crossed 14, 7, 3 or 1 days left.
- `recovered`: the status got better; last.

Incidents: every worsening opens one (numbered per domain), and the alert
that reported it is its opening alert. An improvement closes the incidents
opened at a worse level than the new status; `recovered` is posted in the
thread of the oldest one it closes (or, when it closes none, of the latest
incident), and each closed incident's opening alert is updated.

Event keys are the events' identities in the alert ledger: they include the
state's sequence number (the same comparison made twice, by a retry or by two
instances, yields the same keys), except `cert_expiring`, which is once per
certificate and threshold, ever.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from bot.checker.findings import CODES
from bot.checker.model import SEVERITY_ORDER
from bot.watch.state import STATUS_RANK, CertState, DomainState, FindingKey, Incident

# Findings that may be a blip (a lookup or connection that failed this once).
TRANSIENT = frozenset(
    {
        "record_lookup_failed",
        "mx_lookup_failed",
        "policy_timeout",
        "policy_connect_failed",
        "mx_timeout",
        "mx_unreachable",
        "tlsrpt_lookup_failed",
    }
)
CERT_THRESHOLDS = (14, 7, 3, 1)  # days left at which a certificate is announced, once each
_POLICY_CODES = frozenset({"mx_not_covered", "mx_pattern_unused"})
WORSE, RECOVERED = "worse", "recovered"
MODE_CHANGED, POLICY_CHANGED, MX_CHANGED, CERT_EXPIRING = (
    "mode_changed",
    "policy_changed_same_id",
    "mx_changed",
    "cert_expiring",
)


@dataclass(frozen=True, slots=True)
class Event:
    kind: str
    key: str
    before: str | None = None  # status or mode before (worse, recovered, mode_changed)
    after: str | None = None
    findings: tuple[FindingKey, ...] = ()  # worse: new; recovered: fixed; others: caused
    added: tuple[str, ...] = ()  # mx_changed
    removed: tuple[str, ...] = ()
    certs: tuple[CertState, ...] = ()  # cert_expiring: the certificate, at each address
    threshold: int | None = None  # cert_expiring: 14, 7, 3 or 1
    incident: int | None = None  # the incident this alert opens
    resolves: tuple[int, ...] = ()  # recovered: the incidents it closes
    thread_of: int | None = None  # recovered: the incident whose alert it answers


def cert_threshold(days_left: int | None) -> int | None:
    """The lowest threshold a certificate with `days_left` (whole days, rounded down) has
    reached: under T days left means T days or fewer. None when more than 14 remain."""
    if days_left is None:
        return None
    reached = [t for t in CERT_THRESHOLDS if days_left < t]
    return min(reached) if reached else None


def host_of(subject: str) -> str:
    """The host a finding's subject names ("mx2.example.com (192.0.2.1)" → the host)."""
    return subject.split(" ", 1)[0]


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _bad(keys: set[FindingKey]) -> set[FindingKey]:
    return {k for k in keys if k.severity in ("error", "warning")}


def _sorted(keys: set[FindingKey]) -> tuple[FindingKey, ...]:
    return tuple(sorted(keys, key=lambda k: (SEVERITY_ORDER.get(k.severity, 3), k.code, k.subject)))


def detect(previous: DomainState, new: DomainState, seq: int) -> tuple[DomainState, list[Event]]:
    """The events between `previous` and `new` (the state stored as number `seq`)."""
    before, after = previous.finding_set(), new.finding_set()
    appeared = after - before
    events: list[Event] = []
    covered: set[FindingKey] = set()

    cached = previous.policy  # what senders hold
    if cached is not None and new.usable and new.mode != cached.mode:
        old_levels = {(k.code, k.subject): k.severity for k in before}
        raised = {
            k
            for k in appeared
            if k.code in ("mode_testing", "mode_none")
            or (
                k.code in CODES
                and CODES[k.code].mode_dependent
                and (k.code, k.subject) in old_levels
            )
        }
        covered |= raised
        events.append(
            Event(
                MODE_CHANGED,
                f"mode:{seq}:{cached.mode}>{new.mode}",
                before=cached.mode,
                after=new.mode,
                findings=_sorted(_bad(raised)),
            )
        )

    fresh = new.policy if new.usable else None
    if (
        cached is not None
        and fresh is not None
        and cached.id is not None
        and fresh.id == cached.id
        and fresh.text != cached.text
    ):
        caused = {k for k in appeared if k.code.startswith("policy_") or k.code in _POLICY_CODES}
        covered |= caused
        events.append(
            Event(
                POLICY_CHANGED,
                f"policy:{seq}:{_short_hash(fresh.text)}",
                findings=_sorted(_bad(caused)),
            )
        )

    if "mx_lookup_failed" not in {k.code for k in after}:
        added = tuple(h for h in new.mx if h not in previous.mx)
        removed = tuple(h for h in previous.mx if h not in new.mx)
        if added or removed:
            caused = {k for k in appeared if host_of(k.subject) in added}
            covered |= caused
            events.append(
                Event(
                    MX_CHANGED,
                    f"mx:{seq}:{_short_hash(' '.join(sorted(new.mx)))}",
                    added=added,
                    removed=removed,
                    findings=_sorted(_bad(caused)),
                )
            )

    events += _cert_events(previous, new, appeared, covered)
    return _status_events(previous, new, seq, events, appeared - covered)


def _cert_events(
    previous: DomainState, new: DomainState, appeared: set[FindingKey], covered: set[FindingKey]
) -> list[Event]:
    known = {c.id: cert_threshold(c.days_left) for c in previous.certs}
    by_id: dict[str, list[CertState]] = {}
    for cert in new.certs:
        by_id.setdefault(cert.id, []).append(cert)
    out: list[Event] = []
    for cert_id, places in by_id.items():
        threshold = cert_threshold(places[0].days_left)
        if threshold is None:
            continue
        was = known.get(cert_id)
        if was is not None and threshold >= was:
            continue
        hosts = {c.host for c in places}
        caused = {k for k in appeared if k.code == "cert_expiring" and host_of(k.subject) in hosts}
        covered |= caused
        out.append(
            Event(
                CERT_EXPIRING,
                f"cert:{cert_id}:{threshold}",
                certs=tuple(places),
                threshold=threshold,
                findings=_sorted(caused),
            )
        )
    return out


def _status_events(
    previous: DomainState,
    new: DomainState,
    seq: int,
    events: list[Event],
    unexplained: set[FindingKey],
) -> tuple[DomainState, list[Event]]:
    was, now = STATUS_RANK[previous.status], STATUS_RANK[new.status]
    incidents = list(previous.incidents)
    counter, last = previous.incident_seq, previous.last_incident
    # A usable policy that stops being usable is `worse` even when the status was already
    # `fail` (an MX was broken, say): senders' caches of it start running out now.
    lost_policy = previous.usable and not new.usable
    if now > was or lost_policy:
        counter += 1
        incidents.append(Incident(counter, new.status))
        last = counter
        named = _bad(unexplained)
        if named or not events:
            shown = named or _bad(new.finding_set() - previous.finding_set())
            worse = Event(
                WORSE,
                f"worse:{counter}",
                before=previous.status,
                after=new.status,
                findings=_sorted(shown),
                incident=counter,
            )
            events.insert(0, worse)
        else:
            events[0] = replace(events[0], incident=counter)
    elif now < was:
        closed = [i for i in incidents if STATUS_RANK[i.level] > now]
        incidents = [i for i in incidents if STATUS_RANK[i.level] <= now]
        fixed = _bad(previous.finding_set() - new.finding_set())
        events.append(
            Event(
                RECOVERED,
                f"recovered:{seq}",
                before=previous.status,
                after=new.status,
                findings=_sorted(fixed),
                resolves=tuple(i.id for i in closed),
                thread_of=closed[0].id if closed else last,
            )
        )
    state = replace(new, incidents=tuple(incidents), last_incident=last, incident_seq=counter)
    return state, events
