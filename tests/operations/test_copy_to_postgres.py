"""Moving a shop from SQLite to PostgreSQL (`flask copy-to-postgres`): the demo shop, with
its orders and ledger, copied and checked. Runs where a PostgreSQL server is given
(`make test-postgres`); the shop's own processes do the work, as an owner would run them."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from models.base import make_database
from tests.conftest import POSTGRES_URL
from tests.conftest import postgres_url

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs a PostgreSQL server (make test-postgres)")


def flask(tmp_path, database_url, *args, input=None):
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SHOP_INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "copy-test",
    }
    return subprocess.run(
        [str(Path(sys.executable).with_name("flask")), "--app", "shop", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        input=input,
        timeout=300,
    )


@pytest.fixture
def empty_postgres(postgres_admin):
    name = f"shop_copy_{os.getpid()}"
    postgres_admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}"')
    postgres_admin.execute_sql(f'CREATE DATABASE "{name}"')
    yield postgres_url(name)
    postgres_admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_demo_shop_moves_to_postgresql_whole_and_checked(tmp_path, empty_postgres):
    sqlite_file = tmp_path / "shop.sqlite3"
    sqlite_url = f"sqlite:///{sqlite_file}"
    for command in (["migrate"], ["demo"]):
        done = flask(tmp_path, sqlite_url, *command)
        assert done.returncode == 0, done.stderr

    # A value PostgreSQL refuses (SQLite does not enforce lengths): the copy stops, names the
    # table, and leaves the target as empty as it found it, so it can simply be run again.
    source = sqlite3.connect(sqlite_file)
    (subject,) = source.execute("SELECT subject FROM outbox_message WHERE id = 1").fetchone()
    source.execute("UPDATE outbox_message SET subject = ? WHERE id = 1", ("x" * 300,))
    source.commit()
    failed = flask(tmp_path, sqlite_url, "copy-to-postgres", empty_postgres)
    assert failed.returncode == 1 and 'Copying "outbox_message" failed, nothing was written' in failed.stderr
    source.execute("UPDATE outbox_message SET subject = ? WHERE id = 1", (subject,))
    source.commit()
    source.close()

    copied = flask(tmp_path, sqlite_url, "copy-to-postgres", empty_postgres)
    assert copied.returncode == 0, copied.stderr
    assert "the counts match and the ledger check passes on both sides" in copied.stdout

    source = sqlite3.connect(sqlite_file)
    target = make_database(empty_postgres)
    with target.connection_context():
        for table in (
            "user",
            "address",
            "order",
            "order_line",
            "journal",
            "entry",
            "ledger_account",
            "outbox_message",
        ):
            in_sqlite = source.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
            assert target.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] == in_sqlite, table
        assert in_sqlite > 0
        billing = source.execute(
            'SELECT id, default_billing_id FROM "user" WHERE default_billing_id IS NOT NULL'
        ).fetchall()
        assert billing and target.execute_sql(
            'SELECT id, default_billing_id FROM "user" WHERE default_billing_id IS NOT NULL ORDER BY id'
        ).fetchall() == sorted(billing)
    source.close()

    # The shop runs on the copy: its checks pass and new rows get new ids.
    assert flask(tmp_path, empty_postgres, "ledger", "check").returncode == 0
    owner = flask(
        tmp_path,
        empty_postgres,
        "create-owner",
        "second@example.com",
        "--password-stdin",
        input="a long password\n",
    )
    assert owner.returncode == 0, owner.stderr

    again = flask(tmp_path, sqlite_url, "copy-to-postgres", empty_postgres)
    assert again.returncode == 1 and "is not empty" in again.stderr
