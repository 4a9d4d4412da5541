"""Backups of the live SQLite database (models/operations/backup.py, `flask backup` / `flask restore`,
the nightly job): consistent while another process writes payments, checked, restorable; on
PostgreSQL pg_dump files, read back before they are kept, restored into an empty database."""

import datetime
import json
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import time

import pytest

from jobs.backup import nightly_backup
from jobs.lock import acquire_lock
from models.base import bind_database
from models.base import connection
from models.base import db
from models.base import make_database
from models.funds.customer_accounts import account_for
from models.funds.ledger import check_ledger
from models.funds.ledger import Entry
from models.funds.ledger import Journal
from models.funds.ledger import LedgerAccount
from models.funds.ledger import Leg
from models.funds.ledger import PROVIDER_CLEARING
from models.funds.ledger import SALES
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.operations import backup as backup_module
from models.operations.backup import BackupError
from models.operations.backup import check_file
from models.operations.backup import make_backup
from models.operations.backup import pg_program
from models.operations.backup import restore_backup
from models.operations.backup import SQLITE_MAGIC
from models.orders.order import Order
from models.users.user import User
from shop import create_app
from tests.conftest import app_config
from tests.conftest import POSTGRES_URL
from tests.conftest import postgres_url
from tests.factories import fund
from tests.factories import placed_order

sqlite_only = pytest.mark.sqlite_only(reason="SQLite backups (PostgreSQL's are pg_dump files, below)")
postgres_only = pytest.mark.skipif(not POSTGRES_URL, reason="needs a PostgreSQL server (make test-postgres)")

context = multiprocessing.get_context("forkserver")
context.set_forkserver_preload(["models.funds.ledger"])


def _keep_paying(url, account_id, started, stop, written):
    """A separate process: top-ups and spends, one movement per transaction, until told to stop."""
    bind_database(url)
    with db.connection_context():
        account = LedgerAccount.get_by_id(account_id)
        clearing, sales = system_account(PROVIDER_CLEARING), system_account(SALES)
        number = 0
        started.set()
        while not stop.is_set():
            transfer(
                f"backup-race-{number}-in",
                "top_up",
                [Leg(clearing, -500, "deposit"), Leg(account, 500, "deposit")],
            )
            transfer(
                f"backup-race-{number}-out", "order", [Leg(account, -300, "spend"), Leg(sales, 300, "spend")]
            )
            number += 1
    written.value = number


def entry_count(path):
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT COUNT(*) FROM entry").fetchone()[0]
    finally:
        connection.close()


@sqlite_only
def test_backups_of_a_database_being_written_to_are_consistent_and_restore(app, customer, tmp_path):
    account = account_for(customer)
    started, stop, written = context.Event(), context.Event(), context.Value("i", 0)
    writer = context.Process(
        target=_keep_paying, args=(app.config["DATABASE_URL"], account.id, started, stop, written)
    )
    writer.start()
    try:
        assert started.wait(30)
        backups = []
        for number in range(3):
            time.sleep(0.3)
            backups.append(make_backup(tmp_path / f"copy-{number}.sqlite3").path)
    finally:
        stop.set()
        writer.join(30)
    assert written.value > 10, "the writer wrote while the backups were taken"
    counts = [entry_count(path) for path in backups]
    assert counts == sorted(counts) and counts[0] < counts[-1]  # each a later instant of a live database
    for path in backups:
        assert check_file(path) == []  # integrity and every ledger invariant, in each copy
        assert not path.with_name(path.name + ".partial").exists()

    # Restore the middle one into a database file of its own: the same movements, still sound.
    target = tmp_path / "restored.sqlite3"
    assert restore_backup(backups[1], target) is None  # nothing was there to keep
    assert entry_count(target) == counts[1]
    assert check_file(target) == []
    kept = restore_backup(backups[2], target)
    assert entry_count(kept) == counts[1] and entry_count(target) == counts[2]


@sqlite_only
def test_a_folder_target_gets_a_dated_name_and_an_existing_file_is_never_overwritten(app, tmp_path):
    moment = datetime.datetime(2026, 12, 3, 1, 30, tzinfo=datetime.UTC)
    path = make_backup(tmp_path, moment).path
    assert path.name == "shop-20261203-013000.sqlite3"
    new_folder = make_backup(f"{tmp_path}/not-yet/", moment).path  # a trailing slash means a folder
    assert new_folder == tmp_path / "not-yet" / "shop-20261203-013000.sqlite3"
    with pytest.raises(BackupError, match="exists already"):
        make_backup(tmp_path, moment)


@sqlite_only
def test_a_damaged_backup_is_refused_and_nothing_changes(app, tmp_path):
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    target = tmp_path / "another-shop.sqlite3"
    target.write_bytes(b"the shop's file")
    with pytest.raises(BackupError, match="failed its checks, nothing was changed"):
        restore_backup(damaged, target)
    assert target.read_bytes() == b"the shop's file"
    with pytest.raises(BackupError, match="There is no backup"):
        restore_backup(tmp_path / "missing.sqlite3", target)


def deposited_700(customer):
    """The customer's ledger account after one 7.00 deposit (two entries)."""
    fund(customer, 700)
    return account_for(customer)


@sqlite_only
def test_a_backup_whose_ledger_does_not_add_up_fails_its_check(app, customer, tmp_path):
    account = deposited_700(customer)
    path = make_backup(tmp_path / "copy.sqlite3").path
    connection = sqlite3.connect(path)
    connection.execute("UPDATE ledger_account SET balance = balance + 1 WHERE id = ?", (account.id,))
    connection.commit()
    connection.close()
    assert any("caches 701 but its entries sum to 700" in problem for problem in check_file(path))
    assert Entry.select().count() == 2  # the shop's own database is untouched
    with pytest.raises(BackupError, match="failed its checks, nothing was changed"):
        restore_backup(path, tmp_path / "elsewhere.sqlite3")


@sqlite_only
def test_a_shop_whose_ledger_has_drift_is_still_backed_up_and_the_drift_reported(app, customer, tmp_path):
    account = deposited_700(customer)
    LedgerAccount.update(balance=LedgerAccount.balance + 5).where(LedgerAccount.id == account.id).execute()
    backup = make_backup(tmp_path / "copy.sqlite3")
    assert backup.path.exists()
    assert any("caches 705 but its entries sum to 700" in problem for problem in backup.ledger_problems)
    LedgerAccount.update(balance=LedgerAccount.balance - 5).where(LedgerAccount.id == account.id).execute()


@sqlite_only
def test_the_nightly_backup_runs_once_a_shop_day_after_two_and_keeps_the_newest(app, tmp_path):
    app.config.update(BACKUP_DIR=str(tmp_path / "backups"), BACKUP_KEEP=2)
    london = datetime.timezone(datetime.timedelta(0))  # the shop's zone in winter
    with app.app_context():
        assert nightly_backup(datetime.datetime(2026, 12, 1, 1, 59, tzinfo=london)) is None  # before 02:00
        for day in (1, 2, 3):
            assert nightly_backup(datetime.datetime(2026, 12, day, 2, 5, tzinfo=london)) is not None
            assert (
                nightly_backup(datetime.datetime(2026, 12, day, 23, 0, tzinfo=london)) is None
            )  # done today
    names = sorted(path.name for path in (tmp_path / "backups").iterdir())
    assert names == ["shop-20261202-020500.sqlite3", "shop-20261203-020500.sqlite3"]


@sqlite_only
def test_restore_replaces_the_database_only_while_the_scheduler_is_stopped(template_database, tmp_path):

    shop_file = tmp_path / "other-shop.sqlite3"
    shutil.copy(template_database, shop_file)
    other = create_app(app_config(shop_file, tmp_path))
    runner = other.test_cli_runner()
    assert runner.invoke(args=["backup", f"{tmp_path}/backups/"]).exit_code == 0
    (backup,) = (tmp_path / "backups").glob("shop-*.sqlite3")
    lock = acquire_lock(other.config["JOBS_LOCK_PATH"])
    try:
        refused = runner.invoke(args=["restore", "--yes", str(backup)])
    finally:
        lock.close()
    assert refused.exit_code == 1 and "The scheduler is running" in refused.output
    done = runner.invoke(args=["restore", "--yes", str(backup)])
    assert done.exit_code == 0, done.output
    assert "The replaced database is kept at" in done.output
    assert check_file(shop_file) == []


@sqlite_only
def test_backup_and_restore_commands(app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["backup", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "integrity check passed" in result.output
    (backup,) = tmp_path.glob("shop-*.sqlite3")
    refused = runner.invoke(args=["restore", str(backup)], input="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    missing = runner.invoke(args=["restore", "--yes", str(tmp_path / "nothing.sqlite3")])
    assert missing.exit_code == 1 and "There is no backup" in missing.output


# PostgreSQL: pg_dump files --------------------------------------------------------------------

WINTER_LONDON = datetime.timezone(datetime.timedelta(0))


def pg_listing(path):
    """What `pg_restore --list` says of the dump at `path` (it fails on a file it cannot read)."""
    return subprocess.run(
        [pg_program("pg_restore"), "--list", str(path)], capture_output=True, text=True, check=True
    ).stdout


@postgres_only
def test_the_nightly_backup_on_postgresql_is_a_dump_read_back_and_keeps_the_newest(app, customer, tmp_path):
    fund(customer, 700)
    app.config.update(BACKUP_DIR=str(tmp_path / "backups"), BACKUP_KEEP=2)
    with app.app_context():
        assert nightly_backup(datetime.datetime(2026, 12, 1, 1, 59, tzinfo=WINTER_LONDON)) is None
        for day in (1, 2, 3):
            assert nightly_backup(datetime.datetime(2026, 12, day, 2, 5, tzinfo=WINTER_LONDON)) is not None
            assert nightly_backup(datetime.datetime(2026, 12, day, 23, 0, tzinfo=WINTER_LONDON)) is None
    names = sorted(path.name for path in (tmp_path / "backups").iterdir())
    assert names == ["shop-20261202-020500.dump", "shop-20261203-020500.dump"]  # no .partial left
    for name in names:
        listing = pg_listing(tmp_path / "backups" / name)
        assert "TABLE DATA public entry" in listing and "TABLE DATA public ledger_account" in listing


FAKE_PG_DUMP = """#!{python}
# The real pg_dump, then its file cut in half, as a full disk or a killed dump leaves it; it
# notes what it was given, to show where the password went.
import json, os, subprocess, sys
with open({notes!r}, "w") as notes:
    json.dump({{"argv": sys.argv[1:], "password": os.environ.get("PGPASSWORD")}}, notes)
done = subprocess.run([{real!r}, *sys.argv[1:]])
output = sys.argv[sys.argv.index("--file") + 1]
os.truncate(output, os.path.getsize(output) // 2)
sys.exit(done.returncode)
"""


@postgres_only
def test_a_dump_that_cannot_be_read_back_is_removed_and_the_job_fails(database_url, tmp_path, monkeypatch):
    notes, fake = tmp_path / "pg_dump-notes.json", tmp_path / "pg_dump"
    real = backup_module.pg_program("pg_dump")
    fake.write_text(FAKE_PG_DUMP.format(python=sys.executable, notes=str(notes), real=real))
    fake.chmod(0o755)
    monkeypatch.setattr(
        backup_module,
        "pg_program",
        lambda name, found=backup_module.pg_program: str(fake) if name == "pg_dump" else found(name),
    )
    # A password in DATABASE_URL (the test server trusts local users, so any password does).
    with_password = database_url.replace("postgresql://postgres@", "postgresql://postgres:s3cret-word@")
    assert with_password != database_url
    shop = create_app(app_config(with_password, tmp_path, BACKUP_DIR=str(tmp_path / "backups")))
    with (
        shop.app_context(),
        connection(),
        pytest.raises(BackupError, match="cannot be read back, so it was removed"),
    ):
        nightly_backup(datetime.datetime(2026, 12, 1, 2, 5, tzinfo=WINTER_LONDON))
    assert list((tmp_path / "backups").iterdir()) == []  # neither the dump nor its .partial
    seen = json.loads(notes.read_text())
    assert seen["password"] == "s3cret-word"  # in the child's environment…
    assert not any("s3cret" in argument for argument in seen["argv"])  # …never on its command line
    assert "--format=custom" in seen["argv"]


def shop_counts(database=None):
    tables = (User, Order, Journal, Entry, LedgerAccount)
    return {table.__name__: table.select().bind(database or table._meta.database).count() for table in tables}


@pytest.fixture
def new_postgres_database(postgres_admin):
    name = f"shop_restore_{os.getpid()}"
    postgres_admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}"')
    postgres_admin.execute_sql(f'CREATE DATABASE "{name}"')
    yield postgres_url(name)
    postgres_admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@postgres_only
def test_flask_restore_loads_a_dump_into_an_empty_database_and_refuses_one_with_tables(
    app, customer, make_product, new_postgres_database, tmp_path
):
    with app.test_request_context():
        placed_order(customer, (make_product(price=1200), 2), funds=5000)
    runner = app.test_cli_runner()
    made = runner.invoke(args=["backup", f"{tmp_path}/backups/"])
    assert made.exit_code == 0, made.output
    assert "read back whole by pg_restore" in made.output
    (dump,) = (tmp_path / "backups").glob("shop-*.dump")

    done = runner.invoke(args=["restore", str(dump), "--into", new_postgres_database])
    assert done.exit_code == 0, done.output
    assert "into the empty database" in done.output and "The ledger check passes on it" in done.output
    restored = make_database(new_postgres_database)
    with restored.connection_context():
        assert shop_counts(restored) == shop_counts()
        assert shop_counts()["Order"] == 1 and shop_counts()["Entry"] >= 4
        assert check_ledger(restored) == []

    again = runner.invoke(args=["restore", str(dump), "--into", new_postgres_database])
    assert again.exit_code == 1 and "The target database is not empty" in again.output
    over_the_shop = runner.invoke(args=["restore", str(dump)])  # the shop's own database has tables
    assert over_the_shop.exit_code == 1 and "restore into a new, empty database" in over_the_shop.output


def test_restore_refuses_a_backup_of_the_other_kind(app, tmp_path):
    runner = app.test_cli_runner()
    dump, copy = tmp_path / "fake.dump", tmp_path / "fake.sqlite3"
    dump.write_bytes(b"PGDMP" + b"\x00" * 100)
    copy.write_bytes(SQLITE_MAGIC + b"\x00" * 100)
    into_sqlite = runner.invoke(args=["restore", str(dump), "--into", f"sqlite:///{tmp_path}/new.sqlite3"])
    assert into_sqlite.exit_code == 1 and "it restores only into PostgreSQL" in into_sqlite.output
    into_postgres = runner.invoke(args=["restore", str(copy), "--into", "postgresql://shop@/nowhere"])
    assert into_postgres.exit_code == 1 and "flask copy-to-postgres" in into_postgres.output
    assert not (tmp_path / "new.sqlite3").exists()


@sqlite_only
def test_restore_into_another_sqlite_file_asks_nothing_and_leaves_the_shop_alone(app, customer, tmp_path):
    fund(customer, 700)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", f"{tmp_path}/backups/"]).exit_code == 0
    (backup,) = (tmp_path / "backups").glob("shop-*.sqlite3")
    elsewhere = tmp_path / "elsewhere.sqlite3"
    done = runner.invoke(args=["restore", str(backup), "--into", f"sqlite:///{elsewhere}"])
    assert done.exit_code == 0, done.output
    assert entry_count(elsewhere) == 2 and check_file(elsewhere) == []
    assert Entry.select().count() == 2  # the shop's own database is as it was
