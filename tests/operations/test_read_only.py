"""Reads never write (issue 20, 6): the settings rows come from `flask migrate` (the shop's from its
environment, once; the reminders' from migration 0029), and `flask reminders plan`, the settings
pages and the next-batch preview only read them, even on a fresh database behind another writer."""

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from playhouse.migrations import Runner

from models.base import bind_database
from models.base import db
from models.operations.migrate import MIGRATIONS_DIR
from models.reminders.settings import load_reminder_settings
from models.reminders.settings import ReminderSettings
from models.shop.settings import load_settings
from models.shop.settings import SettingsMissing
from models.shop.settings import ShopSettings
from shop import create_app
from tests.conftest import app_config

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).parent / "flask"


def flask(database_path, tmp_path, *args, **environment):
    """`flask --app shop …` in its own process, with only `environment` of the shop's variables."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SMTP_", "MAIL_", "SHOP_", "DATABASE_", "JOBS_", "FLASK_"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{database_path}",
        SECRET_KEY="x",
        JOBS_LOCK_PATH=str(tmp_path / "jobs.lock"),
        SHOP_INSTANCE_PATH=str(tmp_path / "cli-instance"),
        **environment,
    )
    return subprocess.run(
        [str(FLASK), "--app", "shop", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def fingerprint(path):
    """The database's content: its WAL folded into the file first, then the file's hash."""
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@contextmanager
def query_only():
    """The test's connection refuses every write while inside (SQLite: PRAGMA query_only)."""
    db.execute_sql("PRAGMA query_only = ON")
    try:
        yield
    finally:
        db.execute_sql("PRAGMA query_only = OFF")


def test_flask_migrate_saves_the_shops_settings_from_its_environment_on_the_first_run_only(tmp_path):
    app = create_app(app_config(tmp_path / "fresh.sqlite3", tmp_path))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["migrate"], env={"SHOP_NAME": "Corner Shop", "SHOP_TIMEZONE": "Europe/Paris"})
    assert first.exit_code == 0, first.output
    again = runner.invoke(args=["migrate"], env={"SHOP_NAME": "Another Shop", "SHOP_TIMEZONE": "Asia/Tokyo"})
    assert again.exit_code == 0, again.output
    bind_database(app.config["DATABASE_URL"])
    with db.connection_context():
        shop = load_settings()
        assert (shop.shop_name, shop.timezone, shop.currency) == ("Corner Shop", "Europe/Paris", "EUR")
        assert ShopSettings.select().count() == 1
        reminders = load_reminder_settings()  # migration 0029's row, with the defaults
        assert (reminders.enabled, reminders.mode, reminders.max_per_order, reminders.reorder_hours) == (
            True,
            "dispatch",
            2,
            24,
        )
        assert reminders.times_by_weekday() == ReminderSettings().times_by_weekday()
        assert ReminderSettings.select().count() == 1


@pytest.mark.sqlite_only(reason="PRAGMA query_only")
def test_reads_without_the_rows_say_to_migrate_and_write_nothing(tmp_path):
    """A database migrated without `flask migrate`'s first-run step, and without the reminder row."""
    bind_database(f"sqlite:///{tmp_path / 'bare.sqlite3'}")
    with db.connection_context():
        Runner(db.obj, str(MIGRATIONS_DIR)).up()
        ReminderSettings.delete().execute()
        with query_only():  # a write would fail with "attempt to write a readonly database"
            with pytest.raises(SettingsMissing, match="flask --app shop migrate"):
                load_settings()
            with pytest.raises(SettingsMissing, match="flask --app shop migrate"):
                load_reminder_settings()


@pytest.mark.sqlite_only(reason="holds SQLite's write lock and compares the file")
def test_reminders_plan_writes_nothing_on_a_fresh_database_behind_another_writer(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    migrated = flask(path, tmp_path, "migrate", SHOP_NAME="Corner Shop", SHOP_TIMEZONE="Europe/London")
    assert migrated.returncode == 0, migrated.stderr
    before = fingerprint(path)

    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process holds the write lock throughout
    try:
        # The calling shell says something else: the plan reads the shop's own settings.
        elsewhere = {
            "SHOP_NAME": "Elsewhere",
            "SHOP_TIMEZONE": "America/New_York",
            "DATABASE_BUSY_TIMEOUT": "1",
        }
        as_json = flask(
            path, tmp_path, "reminders", "plan", "--at", "2026-11-23T10:05", "--json", **elsewhere
        )
        as_text = flask(path, tmp_path, "reminders", "plan", "--at", "2026-11-23T10:05", **elsewhere)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["at"] == "2026-11-23T10:05:00+00:00"  # London, not New York
    assert document["window"] == {"start": "2026-11-23T10:00:00+00:00", "end": "2026-11-23T11:00:00+00:00"}
    assert document["reminders"] == document["excluded"] == []
    assert as_text.returncode == 0, as_text.stderr
    assert "window 10:00–11:00" in as_text.stdout

    assert fingerprint(path) == before
    rows = sqlite3.connect(path)
    assert rows.execute("SELECT shop_name, timezone FROM shop_settings").fetchall() == [
        ("Corner Shop", "Europe/London")
    ]
    rows.close()


@pytest.mark.sqlite_only(reason="PRAGMA query_only")
@pytest.mark.parametrize(
    "page",
    [
        "/admin/settings",
        "/admin/reminders/settings",
        "/admin/reminders",
        "/admin/reminders/templates",
        "/admin/reminders/templates/new",
        "/",
    ],
)
def test_the_settings_pages_and_the_next_batch_preview_only_read(owner_client, page):
    with query_only():
        response = owner_client.get(page)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
