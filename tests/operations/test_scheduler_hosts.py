"""Several hosts on one PostgreSQL database (issue 25): one `flask jobs` leads, the others stand
by and take over when it dies, and no mail, reminder, cancellation or daily job is done twice
across the takeover; a leader that loses its lock stops; `flask migrate` run by two
hosts at once migrates once. Real processes, each with its own instance folder, as hosts run
them; short intervals (JOBS_*_SECONDS) keep them quick."""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from jobs.leadership import hold_now
from jobs.leadership import lock_connection
from models.base import connection
from models.base import db
from models.base import make_database
from models.base import write_transaction
from models.funds.ledger import LedgerCheckRun
from models.operations import advisory_locks
from models.operations import migrate
from models.operations.backup import PG_DUMP_MAGIC
from models.operations.daily_jobs import JobRun
from models.operations.migrate import apply_migrations
from models.operations.migrate import MigrationLockTimeout
from models.orders.order import CANCELLED
from models.orders.order import Order
from models.reminders.records import Reminder
from models.reminders.records import SENT as REMINDER_SENT
from models.reminders.settings import AFTER_ORDER
from models.reminders.settings import update_reminder_settings
from models.shop.outbox import OutboxMessage
from models.shop.outbox import send_mail
from models.shop.outbox import SENT
from models.shop.settings import update_settings
from shop import create_app
from tests import factories
from tests.conftest import app_config
from tests.conftest import POSTGRES_URL
from tests.conftest import postgres_url
from tests.conftest import TEST_ENVIRONMENT
from tests.mailserver import Recorder
from tests.mailserver import running_smtp
from tests.shop.test_scheduler import wait_until

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs a PostgreSQL server (make test-postgres)")

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).parent / "flask"
FAST = {"JOBS_TICK_SECONDS": "1", "JOBS_LEADER_CHECK_SECONDS": "0.3", "JOBS_STANDBY_RETRY_SECONDS": "0.3"}


def host_env(tmp_path, host, database_url, **extra):
    """The environment of `host`'s services: the shared database, its own instance folder."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SMTP_", "MAIL_", "SHOP_", "DATABASE_", "JOBS_", "FLASK_", "BACKUP_"))
    }
    return {
        **env,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "one-key-for-every-host",
        "SHOP_INSTANCE_PATH": str(tmp_path / host),
        "SHOP_BASE_URL": TEST_ENVIRONMENT["SHOP_BASE_URL"],
        "PYTHONUNBUFFERED": "1",
        **FAST,
        **extra,
    }


@pytest.fixture
def start_host(tmp_path):
    """start_host(name, database_url, *command, **env) -> Popen of `flask --app shop <command>`
    on host `name`; `.output()` and `.log()` read its standard output and error. All are killed at teardown."""
    processes = []

    def start(host, database_url, *command, **extra):
        name = tmp_path / f"{host}-{len(processes)}"
        with open(f"{name}.out", "wb") as out, open(f"{name}.err", "wb") as err:
            process = subprocess.Popen(
                [str(FLASK), "--app", "shop", *command],
                cwd=ROOT,
                env=host_env(tmp_path, host, database_url, **extra),
                stdout=out,
                stderr=err,
            )
        process.output = lambda: Path(out.name).read_text()
        process.log = lambda: Path(err.name).read_text()
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(5)


def says(process, text):
    def logged():
        return text in process.log()

    logged.__name__ = f"{text!r} in the log"
    return logged


def a_zone_past_three_oclock():
    """A time zone where the nightly backup and ledger check are due now (after 03:00)."""
    zones = ("Europe/London", "Asia/Tokyo", "America/New_York")
    return next(zone for zone in zones if datetime.datetime.now(ZoneInfo(zone)).hour >= 3)


def remind_at_any_hour():
    """Payment reminders every hour of the day, one per order: a planted order is reminded at the
    next tick whatever the time the test runs."""
    update_reminder_settings(
        {"mode": AFTER_ORDER, "quiet_start": "00:00", "quiet_end": "00:00", "max_per_order": 1}
    )


def plant_work(customer, number):
    """A message to deliver, an unpaid order past its cancellation time, and an order to remind
    of its payment (another customer's). Returns the two orders."""
    now = datetime.datetime.now(datetime.UTC)
    with write_transaction():
        send_mail(f"planted-{number}@example.com", f"Planted {number}", "Hello.")
        to_cancel = factories.new_order(customer)
        to_remind = factories.new_order(
            factories.new_customer(),
            now - datetime.timedelta(hours=3),
            auto_cancel_at=now + datetime.timedelta(days=3),
        )
    return to_cancel, to_remind


def reminded(order):
    return Reminder.select().where((Reminder.order == order.id) & (Reminder.state == REMINDER_SENT)).count()


def test_one_host_leads_the_other_takes_over_when_it_is_killed_and_nothing_is_done_twice(
    app, customer, database_url, start_host, tmp_path
):
    update_settings({"timezone": a_zone_past_three_oclock()})
    remind_at_any_hour()
    first_order, first_reminded = plant_work(customer, 1)
    recorder = Recorder()
    with running_smtp(recorder) as port:
        smtp = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_SECURITY": "none"}
        leader = start_host("host-a", database_url, "jobs", **smtp)
        wait_until(says(leader, "leading: this process runs the shop's scheduler"))
        standby = start_host("host-b", database_url, "jobs", **smtp)
        wait_until(says(standby, "waiting to lead"))

        wait_until(lambda: Order.get_by_id(first_order.id).status == CANCELLED)
        wait_until(lambda: reminded(first_reminded))
        wait_until(lambda: JobRun.select().where(JobRun.finished_at.is_null(False)).count() == 2)
        wait_until(lambda: not OutboxMessage.select().where(OutboxMessage.state != SENT).exists())
        assert "leading" not in standby.log()

        leader.send_signal(signal.SIGKILL)
        leader.wait(5)
        second_order, second_reminded = plant_work(customer, 2)
        wait_until(says(standby, "leading: this process runs the shop's scheduler"))
        wait_until(lambda: Order.get_by_id(second_order.id).status == CANCELLED)
        wait_until(lambda: reminded(second_reminded))
        wait_until(lambda: OutboxMessage.get_or_none(to_address="planted-2@example.com", state=SENT))
        wait_until(lambda: not OutboxMessage.select().where(OutboxMessage.state != SENT).exists())
        time.sleep(1.5)  # another tick and the backup job's first run on the new leader

    assert reminded(first_reminded) == reminded(second_reminded) == 1
    assert Reminder.select().where(Reminder.order.in_([first_reminded.id, second_reminded.id])).count() == 2
    messages = list(OutboxMessage.select())
    assert all(message.attempts == 1 for message in messages)
    assert sorted(received.rcpt_tos[0] for received in recorder.received) == sorted(
        message.to_address for message in messages
    )
    assert {"planted-1@example.com", "planted-2@example.com"} <= {message.to_address for message in messages}
    # The day's backup and ledger check ran once, on the first leader; the new one skipped them.
    assert LedgerCheckRun.select().count() == 1
    assert sorted(run.job for run in JobRun.select()) == ["nightly_backup", "nightly_ledger_check"]
    backups = list((tmp_path / "host-a" / "backups").glob("shop-*.dump"))
    assert len(backups) == 1 and not (tmp_path / "host-b" / "backups").exists()
    assert standby.poll() is None, standby.log()


def test_a_leader_that_loses_its_lock_stops_at_once_and_exits_for_a_restart(
    app, database_url, start_host, postgres_admin
):
    leader = start_host("host-a", database_url, "jobs")
    wait_until(says(leader, "leading: this process runs the shop's scheduler"))
    standby = start_host("host-b", database_url, "jobs")
    wait_until(says(standby, "waiting to lead"))

    holder = lock_holder(database_url)
    postgres_admin.execute_sql("SELECT pg_terminate_backend(%s)", (holder,))  # as a cut-off network would

    assert leader.wait(10) == 3, leader.log()
    assert "lost the scheduler's lock" in leader.log()
    assert "scheduler stopped at once" in leader.log()
    wait_until(says(standby, "leading: this process runs the shop's scheduler"))
    assert lock_holder(database_url) != holder

    another = start_host("host-c", database_url, "jobs")
    wait_until(says(another, "waiting to lead"))
    another.send_signal(signal.SIGTERM)  # a standby stopped by systemd
    assert another.wait(10) == 0, another.log()
    assert "stopped while waiting to lead" in another.log()

    standby.send_signal(signal.SIGTERM)
    assert standby.wait(10) == 0, standby.log()
    assert "scheduler stopped" in standby.log()


def lock_holder(database_url):
    """The server process (pid) of the connection holding the scheduler's lock in this database."""
    database = make_database(database_url)
    with database.connection_context():
        space, number = advisory_locks.keys(advisory_locks.SCHEDULER)
        row = database.execute_sql(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s AND objid = %s AND objsubid = 2 AND database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())",
            (space, number),
        ).fetchone()
    assert row is not None, "nobody holds the scheduler's lock"
    return row[0]


@pytest.fixture
def empty_database(postgres_admin):
    name = f"shop_two_migrates_{os.getpid()}"
    postgres_admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}"')
    postgres_admin.execute_sql(f'CREATE DATABASE "{name}"')
    yield postgres_url(name)
    postgres_admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_two_hosts_migrating_at_once_migrate_once(empty_database, start_host):
    hosts = [start_host(host, empty_database, "migrate") for host in ("host-a", "host-b")]
    for process in hosts:
        process.wait(120)
    outputs = [process.output() for process in hosts]
    assert [process.returncode for process in hosts] == [0, 0], [process.log() for process in hosts]

    migrations = sorted(path.stem for path in (ROOT / "migrations").glob("0*.py"))
    applied = [
        line.removeprefix("applied ")
        for out in outputs
        for line in out.splitlines()
        if line.startswith("applied")
    ]
    assert sorted(applied) == migrations  # each once, by one host or the other
    database = make_database(empty_database)
    with database.connection_context():
        names = [row[0] for row in database.execute_sql("SELECT name FROM schema_migration ORDER BY name")]
        assert names == migrations
        assert database.execute_sql("SELECT count(*) FROM shop_settings").fetchone()[0] == 1


def test_a_migrate_that_waits_too_long_for_another_hosts_gives_up_with_a_message(app, database_url):
    other_host = make_database(database_url)
    with other_host.connection_context():
        assert other_host.execute_sql(
            advisory_locks.TRY_LOCK_SQL, advisory_locks.keys(advisory_locks.MIGRATIONS)
        ).fetchone()[0]
        with pytest.raises(MigrationLockTimeout, match="Another host has been migrating the database"):
            apply_migrations(timeout=0.5)
    assert apply_migrations() == []  # the lock went with the other host's connection


def test_the_lock_connection_adds_its_keepalives_to_the_urls_own_server_settings(app, database_url):
    connection = lock_connection(f"{database_url}&options=-c%20statement_timeout%3D4000")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "4s"
            # Read back as set (on a Unix socket the server ignores them and SHOW says 0).
            cursor.execute("SELECT setting, source FROM pg_settings WHERE name = 'tcp_keepalives_count'")
            assert cursor.fetchone()[1] == "client"
        assert connection.autocommit
    finally:
        connection.close()


def test_restoring_into_the_shops_database_is_refused_while_a_scheduler_leads_on_any_host(app, tmp_path):
    dump = tmp_path / "shop.dump"
    dump.write_bytes(PG_DUMP_MAGIC + b"\0" * 64)
    leader = hold_now(app.config)  # another host's `flask jobs`
    try:
        refused = app.test_cli_runner().invoke(args=["restore", str(dump)])
    finally:
        leader.release()
    assert refused.exit_code == 1
    assert "stop the shop's services on every host first" in refused.output


def test_migrations_run_without_the_pages_statement_limit(app, database_url, tmp_path, monkeypatch):
    handle = db.obj
    limited = create_app(app_config(database_url, tmp_path / "limited", DATABASE_STATEMENT_TIMEOUT=2))
    seen = []

    class Runner:
        def up(self):
            seen.append(statement_timeout())
            return []

    monkeypatch.setattr(migrate, "runner", Runner)
    try:
        with limited.app_context(), connection():
            assert statement_timeout() == "2s"
            assert apply_migrations() == []
            assert statement_timeout() == "2s"  # the pooled connection goes back with its limit
    finally:
        db.initialize(handle)  # the test's own open connection
    assert seen == ["0"]


def statement_timeout():
    return db.execute_sql("SHOW statement_timeout").fetchone()[0]
