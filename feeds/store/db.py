"""Opening the store: the engine, sessions, and the schema."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from feeds.migrations import SCHEMA_HEAD

if TYPE_CHECKING:  # Alembic is imported only where migrations run (see SCHEMA_HEAD)
    from alembic.config import Config


class StoreUnavailable(Exception):
    """The database cannot be opened or reached; the message says why."""


# The execution option that marks a connection's transactions as writes (Store.writing).
WRITE_OPTION = "feeds_write"
# How long a SQLite write transaction waits for another one to finish before it gives up
# with "database is locked". Writes take milliseconds; this only runs out under a load the
# database cannot keep up with, and then a 503 is the honest answer.
SQLITE_BUSY_TIMEOUT_MS = 5000


class Store:
    """The post store behind one database URL: an engine and two session factories.

    ``session()`` is for reading; ``writing()`` for every transaction that writes (the admin
    API, imports, the demo loader). On SQLite a write transaction takes the database's write
    lock when it begins (``BEGIN IMMEDIATE``), so concurrent writers wait their turn instead
    of failing; reads stay deferred and, in WAL mode, never wait. On PostgreSQL both are
    the same.
    """

    def __init__(self, database_url: str) -> None:
        try:
            self.engine: Engine = create_engine(database_url, pool_pre_ping=True)
        except (ArgumentError, SQLAlchemyError, ImportError) as error:
            raise StoreUnavailable(f"cannot use database URL {database_url!r}: {error}") from None
        if self.engine.dialect.name == "sqlite":
            writers = _SQLiteWriters()
            event.listen(self.engine, "connect", _configure_sqlite)
            event.listen(self.engine, "begin", writers.begin)
            event.listen(self.engine, "commit", writers.end)
            event.listen(self.engine, "rollback", writers.end)
        _report_unreachable_as_unavailable(self.engine)
        self.session = sessionmaker(self.engine, expire_on_commit=False)
        self.writing = sessionmaker(
            self.engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )

    def create_schema(self, revision: str = "head") -> None:
        """Create the schema, or upgrade it, by running the migrations up to ``revision``."""
        from alembic import command

        with self.reaching(), self.engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            # SQLite alters a table by copying it; with foreign keys on, dropping the old
            # copy would cascade and delete every row that points at it. The pragma only
            # works outside a transaction, so it goes straight to the driver.
            if sqlite:
                _driver_execute(connection, "PRAGMA foreign_keys = OFF")
            try:
                with connection.begin():
                    command.upgrade(_alembic_config(connection), revision)
            finally:
                if sqlite:
                    _driver_execute(connection, "PRAGMA foreign_keys = ON")

    def schema_revision(self) -> str | None:
        """The migration the database is at (None for a database without the schema).

        Read from Alembic's version table with a plain query (see SCHEMA_HEAD)."""
        with self.reaching(), self.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            version: str | None = connection.scalar(text("SELECT version_num FROM alembic_version"))
            return version

    def check_schema(self) -> None:
        """Refuse (StoreUnavailable) a database whose schema is missing or not the newest."""
        current, head = self.schema_revision(), SCHEMA_HEAD
        if current is None:
            raise StoreUnavailable("the database has no feeds schema yet: run `feeds init` first")
        if current != head:
            raise StoreUnavailable(
                f"the database schema is at migration {current}, this feeds needs {head}: "
                "run `feeds db upgrade` first"
            )

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def analyze(self) -> None:
        """Refresh the query planner's statistics of the store's tables (after a bulk load).
        On PostgreSQL only the tables of the store's own schema: a bare ANALYZE locks every
        table of the database in one transaction."""
        with self.reaching(), self.engine.begin() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("ANALYZE")
                return
            quote = connection.dialect.identifier_preparer.quote
            tables = ", ".join(quote(name) for name in inspect(connection).get_table_names())
            if tables:
                connection.exec_driver_sql(f"ANALYZE {tables}")

    @contextmanager
    def reaching(self) -> Iterator[None]:
        """Turn a failure to reach the database into StoreUnavailable."""
        try:
            yield
        except DBAPIError as error:
            where = self.engine.url.render_as_string(hide_password=True)
            reason = (str(error.orig) or type(error.orig).__name__).splitlines()[0]
            raise StoreUnavailable(f"cannot reach the database {where}: {reason}") from None


def head_revision() -> str:
    """The newest migration this version of feeds knows, as Alembic reads it."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the migrations have a head")
    return head


def _driver_execute(connection: Connection, statement: str) -> None:
    """Run ``statement`` on the driver's own connection, outside SQLAlchemy's transaction."""
    driver = connection.connection.dbapi_connection
    if driver is None:
        raise RuntimeError("an open connection has its driver connection")
    driver.execute(statement)


def _alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "feeds:migrations")
    config.attributes["connection"] = connection
    return config


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # SQLAlchemy's documented pysqlite recipe: the driver must not open transactions by
    # itself (it would not before a SAVEPOINT, whose RELEASE would then commit everything);
    # _begin_sqlite sends BEGIN when SQLAlchemy starts one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


class _SQLiteWriters:
    """How write transactions on SQLite take their turn.

    A deferred transaction that reads, then writes, cannot wait for the write lock: when
    another writer holds it, the upgrade fails at once with SQLITE_BUSY (waiting could
    deadlock, so SQLite calls no busy handler there). BEGIN IMMEDIATE takes the lock first,
    and that waits, up to the busy timeout. Reads stay deferred: in WAL mode they read a
    snapshot and never wait for a writer.

    SQLite's busy handler waits by polling, sleeping up to 100 ms between tries and favouring
    newcomers, so under a steady load a writer that has waited long keeps losing its turn
    (p99 2.9 s for 8 writers under Flask's server, bench/README.md). The writers of one
    process therefore also queue on a lock of their own, handed over as soon as a
    transaction ends; SQLite's lock and busy timeout still arbitrate between processes.
    """

    def __init__(self) -> None:
        self.turn = threading.Lock()

    def begin(self, connection: Connection) -> None:
        if not connection.get_execution_options().get(WRITE_OPTION, False):
            connection.exec_driver_sql("BEGIN")
            return
        # Bounded, so that a turn never handed back cannot stop every writer of the process;
        # past it, SQLite's own lock decides.
        if self.turn.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            connection.info[_HOLDS_TURN] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.end(connection)
            raise

    def end(self, connection: Connection) -> None:
        if connection.info.pop(_HOLDS_TURN, False):
            self.turn.release()


_HOLDS_TURN = "feeds_holds_write_turn"


def _report_unreachable_as_unavailable(engine: Engine) -> None:
    """Make every query of ``store`` that cannot reach the database raise StoreUnavailable,
    wherever it runs (a route, the feeds page, the admin API), so that no caller has to
    remember ``store.reaching()``: the driver's connection failures (refused, reset, the
    server shutting down) become the store's own exception.

    Failures of pool_pre_ping are left alone: the pool reconnects by itself after them."""
    event.listen(engine, "handle_error", _unreachable_is_unavailable)


def _unreachable_is_unavailable(context: ExceptionContext) -> Any:
    if context.is_pre_ping or not isinstance(context.sqlalchemy_exception, DBAPIError):
        return None
    # No connection: the failure happened while connecting. A disconnect: the connection
    # died under the query (the server went away).
    if context.connection is None or context.is_disconnect:
        engine = context.engine
        where = engine.url.render_as_string(hide_password=True) if engine else "the database"
        error = context.original_exception
        reason = (str(error) or type(error).__name__).splitlines()[0]
        raise StoreUnavailable(f"cannot reach the database {where}: {reason}") from None
    return None
