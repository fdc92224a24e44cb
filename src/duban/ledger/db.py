"""Engines, sessions and migrations for the ledger."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from duban.errors import ConfigError
from duban.ledger.locks import exclusive

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets its parent folder, foreign keys and a busy timeout."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "checkout", _sqlite_full)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_full(connection: Any, _record: Any, _proxy: Any) -> None:
    """synchronous=FULL on every connection the pool hands out: a commit is on disk before
    the next step, which the steps after a commit rely on (a message moved out of the mailbox,
    an email sent once), across a power cut too; NORMAL may lose the last commits then.
    Measured: 0.5-0.6 ms a commit on a quiet machine, 11 ms on a loaded one (a collect of 970
    replies, 198 commits: 2.2 s against 0.24 s with NORMAL). Set at each checkout, so a
    transaction ``relax_durability`` let commit at NORMAL leaves no connection so."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def relax_durability(session: Session) -> None:
    """Let the transaction beginning now commit without waiting for the disk.

    For a step whose loss in a power cut (not a crash: the system still writes it) costs
    nothing but doing it again, because nothing outside the ledger acts on it before an
    ordinary commit follows: intake's pieces, which the batch's last commit follows before
    any answer is sent or any message leaves the mailbox. That commit makes them durable with
    its own (on SQLite, a FULL commit syncs the whole write-ahead log; on PostgreSQL, a
    synchronous commit flushes the log up to it). On SQLite the level can only change between
    transactions: a transaction already begun keeps FULL."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
    elif connection.dialect.name == "sqlite" and not _in_transaction(connection):
        connection.exec_driver_sql("PRAGMA synchronous=NORMAL")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema; safe to run any number of times, and by two runs at once
    (two ``duban init``, an ``init`` and a ``status``): the upgrade runs under the ledger's
    write lock (``hold_write_lock``), so the second run waits, then finds the schema at head
    and does nothing, instead of creating the same tables again and failing.

    On SQLite the whole of it, the first connection included, also runs under the ledger's
    file lock (``locks.exclusive``): each new connection switches a new database to WAL, and
    two connections doing that at once can be refused at once, without waiting ("database is
    locked": one of two ``duban init`` on a new ledger, once, on a loaded machine)."""
    try:
        with exclusive(engine, "ledger:schema"), engine.begin() as connection:
            hold_write_lock(connection, "ledger:migrate")
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except OperationalError as error:
        raise unreachable(engine, error) from None


def hold_write_lock(connection: Connection, name: str) -> None:
    """Hold a lock for the rest of ``connection``'s transaction, waiting for another run that
    holds it; it ends with the transaction, or with the process if that is killed.

    For work inside one transaction that reads what is there and then writes what is missing
    (the schema, a campaign's registration), which two runs at once would otherwise both find
    missing and both write. (``ledger.locks.exclusive`` is for a block of work spanning many
    transactions and outside effects, such as a batch of intake.)

    * PostgreSQL: the transaction-level advisory lock numbered after ``name``; the reads that
      follow see what the previous holder committed (each statement sees what was committed
      before it began).
    * SQLite: the database's write lock, taken at once (``BEGIN IMMEDIATE``; ``name`` plays no
      part, there is one), waiting up to the busy timeout. Python's sqlite3 opens a transaction
      only before a write, so a connection with none open has read nothing it could write on;
      one with a transaction open already holds the write lock.
    """
    if connection.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif connection.dialect.name == "sqlite" and not _in_transaction(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _in_transaction(connection: Connection) -> bool:
    return bool(connection.connection.dbapi_connection.in_transaction)  # type: ignore[union-attr]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        row = connection.exec_driver_sql("SELECT version_num FROM alembic_version").first()
        return None if row is None else str(row[0])


def ensure_ready(engine: Engine) -> None:
    """Refuse to work on a ledger that ``duban init`` has not created or upgraded."""
    try:
        revision = current_revision(engine)
    except OperationalError as error:
        raise unreachable(engine, error) from None
    script = ScriptDirectory.from_config(alembic_config())
    if revision != script.get_current_head():
        raise ConfigError(
            f"the ledger at {engine.url.render_as_string(hide_password=True)} is not ready "
            f"(schema {revision or 'missing'}, expected {script.get_current_head()})",
            hint="run `duban init CAMPAIGN.yaml` first",
            zh=f"{engine.url.render_as_string(hide_password=True)} 处的台账尚未就绪"
            f"（结构版本 {revision or '缺失'}，应为 {script.get_current_head()}）",
            zh_hint="请先运行 `duban init CAMPAIGN.yaml`",
        )


def unreachable(engine: Engine, error: Exception) -> ConfigError:
    where = engine.url.render_as_string(hide_password=True)
    first_line = str(getattr(error, "orig", error)).strip().splitlines()[0]
    return ConfigError(
        f"cannot open the ledger at {where}: {first_line}",
        hint="check DUBAN_DATABASE_URL (or DUBAN_HOME for the SQLite default)",
        zh=f"无法打开 {where} 处的台账：{first_line}",
        zh_hint="请检查 DUBAN_DATABASE_URL（使用默认的 SQLite 时检查 DUBAN_HOME）",
    )


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = sessionmaker(engine, expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
