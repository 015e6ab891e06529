"""Running an import: records in, posts written through the write path, counts out.

Records are written ``batch_size`` at a time through an UpsertBatch (feeds.store.bulk):
each is checked on its own, so that a bad one is skipped alone; new posts go in together
by bulk, the others (updates, slugs to free) through upsert_post in their own savepoint;
and the session commits after each batch. ``strict`` makes the whole import one
transaction that the first bad record aborts; ``dry_run`` rolls everything back at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from feeds.settings import Settings
from feeds.store import Store
from feeds.store.bulk import UpsertBatch
from feeds.store.validation import InvalidInput, PostInput
from feeds.store.writes import WriteOutcome

if TYPE_CHECKING:
    from feeds.ingest.source import Source

DEFAULT_BATCH_SIZE = 500


class ImportFailed(Exception):
    """The import was refused or stopped; the message says where and why."""


@dataclass(frozen=True)
class Record:
    """One record of a source, at ``position`` ("line 12", "item 5 (guid …)").

    It holds a ``post`` to write, or says why it is skipped: ``ignored`` when it is not a
    post to import (a page, a trashed post), ``invalid`` when it is a post that cannot be
    imported (no date); only the latter aborts a strict import. ``warnings`` say what of
    it was left out (a media file at an ftp: URL) without keeping it from being written.
    """

    position: str
    post: PostInput | None = None
    ignored: str | None = None
    invalid: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Skip:
    """A record not imported: where it is, and why."""

    position: str
    reason: str


@dataclass(frozen=True)
class ImportOptions:
    """How to run an import: the command line's options."""

    dry_run: bool = False
    strict: bool = False
    batch_size: int = DEFAULT_BATCH_SIZE
    language: str | None = None


@dataclass
class ImportReport:
    """What an import did: posts created, updated, unchanged, each record skipped, and
    each warning (a part of a record left out)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skips: list[Skip] = field(default_factory=list)
    dry_run: bool = False
    warnings: list[Skip] = field(default_factory=list)

    def counts(self) -> str:
        """One line: ``created 12, updated 0, unchanged 3, skipped 2`` (``, warnings 1``
        when there are any)."""
        counts = (
            f"created {self.created}, updated {self.updated}, "
            f"unchanged {self.unchanged}, skipped {len(self.skips)}"
        )
        return counts + (f", warnings {len(self.warnings)}" if self.warnings else "")

    def add(self, outcome: WriteOutcome) -> None:
        """Count one post written."""
        name = outcome.value
        setattr(self, name, getattr(self, name) + 1)


@dataclass(frozen=True)
class Importer:
    """One kind of import: how it reads a source into records, and what sets it apart."""

    read: Callable[[Source, Settings, str | None], Iterable[Record]]
    # Foreign slugs may clash with the store's: let them take a free one.
    free_slugs: bool = False
    # Runs in the last transaction of an import that is not a dry run.
    finish: Callable[[Session], None] | None = None

    def run(
        self,
        store: Store,
        settings: Settings,
        source: Source,
        options: ImportOptions,
        progress: Callable[[], None] | None = None,
    ) -> ImportReport:
        """Import ``source`` into ``store``; ``progress`` is called after each record.

        At most import_max_bytes of the source are read: InputTooLarge beyond.
        """
        source.bound(settings.import_max_bytes)
        return run_import(
            store,
            settings,
            self.read(source, settings, options.language),
            options,
            free_slugs=self.free_slugs,
            progress=progress,
            finish=self.finish,
        )


def run_import(
    store: Store,
    settings: Settings,
    records: Iterable[Record],
    options: ImportOptions,
    *,
    free_slugs: bool = False,
    progress: Callable[[], None] | None = None,
    finish: Callable[[Session], None] | None = None,
) -> ImportReport:
    """Write ``records`` as upsert_post would, one by one, and count what happened.

    ``free_slugs`` lets a post whose slug another post holds take a free one (foreign
    slugs); ``finish`` runs in the last transaction of an import that is not a dry run.
    ImportFailed when the source fails, the store fails, or a strict import meets a bad
    record; batches committed before stay (the import can be run again: it is idempotent).
    """
    report = ImportReport(dry_run=options.dry_run)
    one_transaction = options.strict or options.dry_run
    first_seen: dict[str, str] = {}
    number = committed = 0
    with store.writing() as session:
        try:
            for batch in _batches(records, options.batch_size):
                posts = UpsertBatch(session, settings, _posts_to_write(batch), free_slug=free_slugs)
                for record in batch:
                    number += 1
                    report.warnings += [Skip(record.position, w) for w in record.warnings]
                    problem = _write(posts, record, report, first_seen)
                    if problem is not None and options.strict:
                        raise ImportFailed(
                            f"{record.position}: {problem}; nothing was imported (--strict)"
                        )
                    if progress is not None:
                        progress()
                posts.flush()
                if not one_transaction and len(batch) == options.batch_size:
                    session.commit()
                    session.expunge_all()  # keeps memory flat whatever the file's size
                    committed = number
            if finish is not None and not options.dry_run:
                finish(session)
            if options.dry_run:
                session.rollback()
            else:
                session.commit()
        except ImportFailed as failure:
            session.rollback()
            if not committed:
                raise
            # The same kind of failure, saying what was kept.
            raise type(failure)(_after_batches(str(failure), committed)) from None
        except SQLAlchemyError as error:
            session.rollback()
            reason = str(getattr(error, "orig", None) or error).splitlines()[0]
            raise ImportFailed(_after_batches(f"database error: {reason}", committed)) from None
    return report


def _batches(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    """``records``, ``size`` at a time. When the source fails mid-batch, the records read
    before the failure come first, so that a bad one among them is reported as it would
    have been one record at a time."""
    batch: list[Record] = []
    iterator = iter(records)
    while True:
        try:
            record = next(iterator, None)
        except Exception:
            if batch:
                yield batch
            raise
        if record is None:
            break
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _posts_to_write(batch: list[Record]) -> list[PostInput]:
    return [
        record.post
        for record in batch
        if record.post is not None and record.ignored is None and record.invalid is None
    ]


def _write(
    posts: UpsertBatch, record: Record, report: ImportReport, first_seen: dict[str, str]
) -> str | None:
    """Write one record and count it; the problem that stopped it, if any."""
    if record.ignored is not None:
        report.skips.append(Skip(record.position, record.ignored))
        return None
    post = record.post
    key = (post.external_id or post.entry_id) if post is not None else None
    if record.invalid is not None:
        problem = record.invalid
    elif post is None:
        problem = "nothing to import"
    elif key in first_seen:
        problem = f"the same id as {first_seen[key]}"
    else:
        try:
            outcome = posts.upsert(post)
        except InvalidInput as error:
            problem = str(error)
        else:
            report.add(outcome)
            if key:
                # Only "item 3": the id is the same. Kept short, as every id stays in memory.
                first_seen[key] = record.position.split(" (", 1)[0]
            return None
    report.skips.append(Skip(record.position, problem))
    return problem


def _after_batches(message: str, committed: int) -> str:
    if not committed:
        return message
    return (
        f"{message} (the first {committed} records were committed before it; "
        "importing the file again is safe)"
    )
