"""Opening the store: the engine, sessions, and the schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from feeds.store.models import Base


class StoreUnavailable(Exception):
    """The database cannot be opened or reached; the message says why."""


class Store:
    """The post store behind one database URL: an engine and a session factory."""

    def __init__(self, database_url: str) -> None:
        try:
            self.engine: Engine = create_engine(database_url, pool_pre_ping=True)
        except (ArgumentError, SQLAlchemyError, ImportError) as error:
            raise StoreUnavailable(f"cannot use database URL {database_url!r}: {error}") from None
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _configure_sqlite)
        self.session = sessionmaker(self.engine, expire_on_commit=False)

    def create_schema(self) -> None:
        """Create every table and index that does not exist yet."""
        with self._reaching():
            Base.metadata.create_all(self.engine)

    def has_schema(self) -> bool:
        """Whether the database holds the store's tables."""
        with self._reaching():
            present = set(inspect(self.engine).get_table_names())
        return set(Base.metadata.tables) <= present

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    @contextmanager
    def _reaching(self) -> Iterator[None]:
        """Turn a failure to reach the database into StoreUnavailable."""
        try:
            yield
        except DBAPIError as error:
            where = self.engine.url.render_as_string(hide_password=True)
            reason = (str(error.orig) or type(error.orig).__name__).splitlines()[0]
            raise StoreUnavailable(f"cannot reach the database {where}: {reason}") from None


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.close()
