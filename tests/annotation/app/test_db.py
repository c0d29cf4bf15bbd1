"""The database layer: migrations build the schema on an empty database, SQLite runs in WAL mode with foreign keys,
writers queue for the write lock while readers never wait for it."""

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError, OperationalError

from annotation.app.db import make_engine, migrate, reader_factory, session_factory, transaction
from annotation.app.models import Task

NOW = datetime(2024, 1, 1)
TABLES = {"users", "sessions", "images", "batches", "tasks", "annotations", "ama_rounds", "alembic_version"}


def test_migrations_build_the_schema_on_an_empty_database(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'annotation.db'}")  # the folder is made too
    assert inspect(engine).get_table_names() == []
    assert migrate(engine) == "0001"
    assert set(inspect(engine).get_table_names()) == TABLES
    assert migrate(engine) == "0001"  # already at head: nothing to do
    columns = {c["name"] for c in inspect(engine).get_columns("annotations")}
    assert {"id", "task_id", "kind", "payload", "content_hash", "superseded", "deleted"} <= columns
    engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'annotation.db'}")
    migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        with transaction(session_factory(engine)) as db:
            db.add(Task(id="t1", batch_id="nope", task_type="points", image_id="nope", annotator_id=7, created_at=NOW))
    engine.dispose()


def test_readers_do_not_wait_for_a_writer_and_writers_queue(tmp_path: Path) -> None:
    path = tmp_path / "annotation.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    other.execute("INSERT INTO batches VALUES ('b1', 'name', 'points', '2024-01-01 00:00:00')")
    with transaction(reader_factory(engine)) as db:  # a read still goes ahead, and sees only committed rows
        assert db.execute(text("SELECT count(*) FROM batches")).scalar() == 0
    with engine.connect() as connection:
        connection.connection.driver_connection.execute("PRAGMA busy_timeout=100")  # the app waits 30 s
        with pytest.raises(OperationalError, match="locked"):
            connection.begin()  # a writer waits its turn (here: gives up after 100 ms)
    other.execute("COMMIT")
    with transaction(session_factory(engine)) as db:
        db.execute(text("INSERT INTO batches VALUES ('b2', 'name', 'points', '2024-01-01 00:00:00')"))
    with transaction(reader_factory(engine)) as db:
        assert db.execute(text("SELECT count(*) FROM batches")).scalar() == 2
    other.close()
    engine.dispose()
