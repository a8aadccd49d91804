"""The register's engine and schema: one way to open the database, and Alembic migrations run from code.

No alembic.ini is needed: `alembic_config()` points Alembic at `migrations/` and hands it a connection.
`upgrade` runs under a lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock), so several
processes starting at once migrate once. `stale` says in one line when the schema is not the code's.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

if TYPE_CHECKING:  # Alembic costs some 0.4 s to import: loaded by the functions that migrate or compare revisions
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
LOCK = 0x666F726D6B6974  # "formkit": the advisory lock that serialises migrations on PostgreSQL


def database_url(url: str):
    """Return the URL object, with PostgreSQL on psycopg (3) whether or not the URL names the driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def shown(url: str) -> str:
    """Return the URL as it may appear in a log line or a message: without its password."""
    return database_url(url).render_as_string(hide_password=True)


def engine_for(url: str, *, busy_timeout: float = 5.0) -> Engine:
    """Return an engine for the register's database; SQLite gets real transactions, foreign keys and WAL."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": busy_timeout, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        # A submission waits for a lock or a connection as long as SQLite would, then fails (503), never hangs.
        lock_ms = int(busy_timeout * 1000)
        waits = {"connect_timeout": max(1, round(busy_timeout)), "options": f"-c lock_timeout={lock_ms}"}
        engine = create_engine(parsed, pool_pre_ping=True, connect_args=waits)
    alive = weakref.ref(engine)
    # A process forked with the app loaded (gunicorn --preload) must not share the parent's connections.
    os.register_at_fork(after_in_child=lambda: (engine := alive()) is not None and engine.dispose(close=False))
    return engine


def _sqlite_connect(connection, record) -> None:
    # pysqlite's own transaction handling begins late and never for DDL; SQLAlchemy emits BEGIN itself.
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not wait for the writer
    cursor.close()


def _sqlite_begin(connection) -> None:
    # IMMEDIATE takes the write lock at once (waiting busy_timeout), so a writer never fails half-way.
    connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get("immediate") else "BEGIN")


def alembic_config() -> Config:
    """Return Alembic's configuration, built in code: the scripts in `migrations/`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """Return the revision the code needs."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def current(engine: Engine) -> str:
    """Return the database's revision ("" for a database without the register's tables)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() or ""


def upgrade(engine: Engine) -> tuple[str, str]:
    """Bring the database to the code's revision; return (revision before, revision after)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    parsed = engine.url
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        # Personal data: the folder 0700 and the file 0600 (SQLite gives its -wal and -shm files the same mode).
        database = Path(parsed.database)
        database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
    config = alembic_config()
    with engine.connect().execution_options(immediate=True) as connection, connection.begin():
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK})
        before = MigrationContext.configure(connection).get_current_revision() or ""
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return before, head()


def stale(engine: Engine, url: str) -> str:
    """Return "" when the database is at the code's revision, else one line saying what to run."""
    try:
        found = current(engine)
    except Exception as error:  # any driver's "cannot connect": said in one line, never a traceback
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:200]
        return f"The register's database {shown(url)} cannot be opened ({reason}). Check FORMKIT_DATABASE_URL."
    needed = head()
    if found == needed:
        return ""
    state = "has no register tables yet" if not found else f"is at revision {found}, this version needs {needed}"
    return f"The register's database {shown(url)} {state}. Run: formkit db upgrade"
