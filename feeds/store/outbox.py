"""The outbox: which feed scopes changed, and how far each sender has announced them.

Writes add a row per scope they touch (``record_changes``, called by the scope index in the
write's own transaction). Each sender (a WebSub hub, a cache to purge) is one
OutboxTarget: a cursor over those rows, its retry state and a lease. A sender takes the
lease with one conditional UPDATE, so that of several processes or instances exactly one
delivers a target's changes at a time, then reads the changes past its cursor, announces
them, and moves the cursor (or backs off). Nothing here talks to the outside world:
feeds/push/ does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, event, func, insert, or_, select, update
from sqlalchemy.orm import Session

from feeds.store.models import (
    OUTBOX_DUE_UNTIL,
    STORE_SCOPE,
    OutboxChange,
    OutboxFailure,
    OutboxTarget,
    ScopeEntry,
    ScopeRevision,
    StoreMeta,
)
from feeds.store.scopes import SITE_SCOPE

# The due-post clock moves at least this often, so that its range scan stays short.
CLOCK_STEP = timedelta(seconds=60)


@dataclass(frozen=True)
class Batch:
    """The changes a sender is to announce: ids ``first_id``..``last_id``, their scopes
    (each once, in the order first recorded)."""

    first_id: int
    last_id: int
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class TargetStatus:
    """Where one sender stands: changes waiting, delivered, tries of the next batch, the
    last error, and the batches given up on."""

    name: str
    pending: int
    delivered: int
    attempts: int
    next_attempt: datetime
    last_error: str | None
    failures: int


# Set when a transaction that recorded changes commits in this process: the delivery
# thread of the same process (feeds serve) wakes at once instead of at its next poll.
committed = threading.Event()


@event.listens_for(Session, "after_commit")
def _wake_delivery(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        committed.set()


@event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(_CHANGED, None)


_CHANGED = "feeds.outbox.changed"


def record_changes(session: Session, scopes: Iterable[str], now: datetime) -> None:
    """Add one change per scope (the store's own bookkeeping scope excepted), if any
    sender has a target to read it.

    Only ever called with the store's revision row locked (feeds/store/index.py), which
    its transaction holds until it ends: so changes commit in the order of their ids, and a
    cursor that passed an id can never miss a smaller one committed later."""
    rows = [{"scope": scope, "recorded": now} for scope in sorted(set(scopes) - {STORE_SCOPE})]
    # With no target (no hub or purge has ever been configured, or they were all removed),
    # nobody would read them: a target made later starts at the newest change anyway.
    if rows and session.scalar(select(OutboxTarget.name).limit(1)) is not None:
        session.execute(insert(OutboxChange), rows)
        session.info[_CHANGED] = True


def record_every_scope(session: Session, now: datetime) -> None:
    """Add a change for every scope the store knows (a change every feed may show)."""
    scopes = session.scalars(select(ScopeRevision.scope).where(ScopeRevision.scope != STORE_SCOPE))
    record_changes(session, scopes, now)


def due_posts_waiting(session: Session, now: datetime) -> bool:
    """Whether ``due_post_scopes`` has anything to do: posts fell due since its clock, or
    the clock is missing or CLOCK_STEP behind (a read, for idle rounds to stay reads)."""
    since = _due_clock(session)
    if since is None or now - since >= CLOCK_STEP:
        return True
    return now > since and session.scalar(_due_posts(since, now).limit(1)) is not None


def due_post_scopes(session: Session, now: datetime) -> list[str]:
    """The scopes of posts that fell due (their published time passed) since the last call,
    which moves the clock to ``now``; the first call only starts it. The caller touches
    them (feeds/store/index.py::touch_scopes), which records the changes."""
    fact = session.get(StoreMeta, OUTBOX_DUE_UNTIL, with_for_update=True)
    if fact is None:
        session.add(StoreMeta(key=OUTBOX_DUE_UNTIL, value=now.isoformat()))
        return []
    since = datetime.fromisoformat(fact.value)
    if now <= since:
        return []
    post_ids = session.scalars(_due_posts(since, now)).all()
    fact.value = now.isoformat()
    if not post_ids:
        return []
    scopes = select(ScopeEntry.scope).where(ScopeEntry.post_id.in_(post_ids)).distinct()
    return list(session.scalars(scopes))


def _due_clock(session: Session) -> datetime | None:
    value = session.scalar(select(StoreMeta.value).where(StoreMeta.key == OUTBOX_DUE_UNTIL))
    return datetime.fromisoformat(value) if value is not None else None


def _due_posts(since: datetime, now: datetime) -> Select[int]:
    """The posts whose published time is in (since, now]: every published post has a row
    in the site scope, so this is a range scan of its primary key."""
    return select(ScopeEntry.post_id).where(
        ScopeEntry.scope == SITE_SCOPE, ScopeEntry.published > since, ScopeEntry.published <= now
    )


def has_work(session: Session, name: str, now: datetime) -> bool:
    """Whether ``name`` has changes past its cursor, is due, and is not leased (a read)."""
    target = session.get(OutboxTarget, name)
    if target is None or target.next_attempt > now:
        return False
    if target.leased_until is not None and target.leased_until >= now:
        return False
    newer = select(OutboxChange.id).where(OutboxChange.id > target.delivered_id).limit(1)
    return session.scalar(newer) is not None


def ensure_targets(session: Session, names: Sequence[str], now: datetime) -> None:
    """Make the targets exactly ``names``: each new one gets a cursor at the newest change
    (it announces what comes next, not the store's history); one no longer configured is
    dropped (its failures stay listed), and with none left the changes go too."""
    session.execute(delete(OutboxTarget).where(OutboxTarget.name.not_in(names)))
    if not names:
        session.execute(delete(OutboxChange))
        return
    newest = session.scalar(select(func.max(OutboxChange.id))) or 0
    known = set(session.scalars(select(OutboxTarget.name)))
    session.add_all(
        OutboxTarget(name=name, delivered_id=newest, delivered=0, attempts=0, next_attempt=now)
        for name in names
        if name not in known
    )


def claim(session: Session, name: str, holder: str, now: datetime, lease: timedelta) -> bool:
    """Take ``name``'s lease until ``now + lease`` if it is free and due; whether it was."""
    result = session.execute(
        update(OutboxTarget)
        .where(
            OutboxTarget.name == name,
            OutboxTarget.next_attempt <= now,
            or_(OutboxTarget.leased_until.is_(None), OutboxTarget.leased_until < now),
        )
        .values(leased_until=now + lease, leased_by=holder)
    )
    return bool(getattr(result, "rowcount", 0))


def release(session: Session, name: str, holder: str) -> None:
    """Give the lease back (if it is still ours)."""
    session.execute(
        update(OutboxTarget)
        .where(OutboxTarget.name == name, OutboxTarget.leased_by == holder)
        .values(leased_until=None, leased_by=None)
    )


def next_batch(session: Session, name: str, limit: int) -> Batch | None:
    """Up to ``limit`` changes past ``name``'s cursor, coalesced by scope; None if none."""
    cursor = select(OutboxTarget.delivered_id).where(OutboxTarget.name == name).scalar_subquery()
    rows = session.execute(
        select(OutboxChange.id, OutboxChange.scope)
        .where(OutboxChange.id > cursor)
        .order_by(OutboxChange.id)
        .limit(limit)
    ).all()
    if not rows:
        return None
    scopes = tuple(dict.fromkeys(scope for _, scope in rows))
    return Batch(rows[0][0], rows[-1][0], scopes)


def delivered(session: Session, name: str, batch: Batch, now: datetime) -> None:
    """Move ``name``'s cursor past ``batch`` and clear its retry state."""
    target = session.get_one(OutboxTarget, name)
    target.delivered += batch.last_id - target.delivered_id
    target.delivered_id = batch.last_id
    target.attempts, target.next_attempt, target.last_error = 0, now, None


def attempts(session: Session, name: str) -> int:
    """How many times ``name``'s next batch has failed so far."""
    return session.get_one(OutboxTarget, name).attempts


def failed(
    session: Session,
    name: str,
    batch: Batch,
    error: str,
    retry_at: datetime,
    max_attempts: int,
    now: datetime,
) -> bool:
    """Count a failed try of ``batch``: retry at ``retry_at``, or, after ``max_attempts``
    tries, record it as given up (OutboxFailure) and move on. Whether it was given up."""
    target = session.get_one(OutboxTarget, name)
    target.attempts += 1
    target.last_error = error
    if target.attempts < max_attempts:
        target.next_attempt = retry_at
        return False
    session.add(
        OutboxFailure(
            target=name,
            first_id=batch.first_id,
            last_id=batch.last_id,
            scopes=" ".join(batch.scopes),
            attempts=target.attempts,
            error=error,
            failed=now,
        )
    )
    target.delivered_id, target.attempts, target.next_attempt = batch.last_id, 0, now
    return True


def statuses(session: Session, names: Sequence[str]) -> list[TargetStatus]:
    """Where each of ``names`` stands (targets never run yet are left out)."""
    failures = dict(
        session.execute(
            select(OutboxFailure.target, func.count()).group_by(OutboxFailure.target)
        ).all()
    )
    answer = []
    for target in session.scalars(select(OutboxTarget).where(OutboxTarget.name.in_(names))):
        pending = session.scalar(
            select(func.count())
            .select_from(OutboxChange)
            .where(OutboxChange.id > target.delivered_id)
        )
        answer.append(
            TargetStatus(
                target.name,
                int(pending or 0),
                target.delivered,
                target.attempts,
                target.next_attempt,
                target.last_error,
                int(failures.get(target.name, 0)),
            )
        )
    return sorted(answer, key=lambda status: names.index(status.name))


def failures(session: Session, limit: int = 50) -> list[OutboxFailure]:
    """The latest batches given up on, newest first."""
    return list(
        session.scalars(select(OutboxFailure).order_by(OutboxFailure.id.desc()).limit(limit))
    )


def prune(session: Session, names: Sequence[str]) -> int:
    """Delete the changes every target in ``names`` has passed; how many."""
    slowest = select(func.min(OutboxTarget.delivered_id)).where(OutboxTarget.name.in_(names))
    floor = session.scalar(slowest) if names else session.scalar(select(func.max(OutboxChange.id)))
    if floor is None:
        return 0
    result = session.execute(delete(OutboxChange).where(OutboxChange.id <= floor))
    return int(getattr(result, "rowcount", 0))
