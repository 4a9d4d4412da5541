"""The scheduler: one process only (a lock), the minute tick, and mail delivery from the real process."""

import datetime
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import jobs.tick
from jobs.lock import acquire_lock
from jobs.lock import AlreadyRunning
from jobs.tick import tick
from models.base import as_aware_utc
from models.base import to_naive_utc
from models.base import utcnow
from models.base import write_transaction
from models.operations.health import TICK
from models.shop.heartbeat import last_beat
from models.shop.outbox import OutboxMessage
from models.shop.outbox import send_mail
from models.shop.outbox import SENT
from models.shop.settings import update_settings
from tests.conftest import post_form
from tests.conftest import TEST_ENVIRONMENT
from tests.mailserver import Recorder
from tests.mailserver import running_smtp

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).parent / "flask"
DEADLINE_SECONDS = 15


def wait_until(condition, timeout=DEADLINE_SECONDS, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {condition.__name__}")


@pytest.fixture
def scheduler_env(database_path, tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SMTP_", "MAIL_", "SHOP_", "DATABASE_", "JOBS_", "FLASK_"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{database_path}",
        SECRET_KEY="x",
        JOBS_LOCK_PATH=str(tmp_path / "jobs.lock"),
        SHOP_INSTANCE_PATH=str(tmp_path / "instance"),
        SHOP_BASE_URL=TEST_ENVIRONMENT["SHOP_BASE_URL"],  # the jobs process has the web's configuration
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def start_scheduler(scheduler_env, tmp_path):
    """start_scheduler(**extra_env) -> Popen of `flask --app shop jobs`; all are stopped at teardown."""
    processes = []

    def start(**extra_env):
        number = len(processes)
        with (
            open(tmp_path / f"jobs{number}.out", "wb") as out,
            open(tmp_path / f"jobs{number}.err", "wb") as err,
        ):
            process = subprocess.Popen(
                [str(FLASK), "--app", "shop", "jobs"],
                cwd=ROOT,
                env={**scheduler_env, **extra_env},
                stdout=out,
                stderr=err,
            )
        process.log_path = Path(err.name)  # stderr: our messages and the logging output
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(5)


def stop(process):
    process.send_signal(signal.SIGTERM)
    return process.wait(DEADLINE_SECONDS)


def tick_recorded():
    return last_beat(TICK)


# --- one scheduler only -------------------------------------------------------


def test_second_scheduler_refuses_to_start_and_first_keeps_ticking(app, start_scheduler, scheduler_env):
    started = utcnow()
    first = start_scheduler()
    beat_at = wait_until(tick_recorded)
    assert beat_at >= started - datetime.timedelta(seconds=1)

    second = start_scheduler()
    assert second.wait(DEADLINE_SECONDS) != 0
    message = second.log_path.read_text()
    assert "Another scheduler is already running" in message
    assert scheduler_env["JOBS_LOCK_PATH"] in message

    assert first.poll() is None, first.log_path.read_text()
    with pytest.raises(AlreadyRunning):
        acquire_lock(scheduler_env["JOBS_LOCK_PATH"])

    assert stop(first) == 0, first.log_path.read_text()
    assert "scheduler stopped" in first.log_path.read_text()
    # The lock went with the process: a new scheduler may start now.
    acquire_lock(scheduler_env["JOBS_LOCK_PATH"]).close()


def test_scheduler_stops_on_ctrl_c(app, start_scheduler):
    process = start_scheduler()
    wait_until(tick_recorded)
    process.send_signal(signal.SIGINT)
    assert process.wait(DEADLINE_SECONDS) == 0, process.log_path.read_text()


def test_scheduler_refuses_unknown_smtp_security(app, start_scheduler):
    process = start_scheduler(SMTP_HOST="mail.example.com", SMTP_SECURITY="tls")
    assert process.wait(DEADLINE_SECONDS) != 0
    assert "SMTP_SECURITY" in process.log_path.read_text()
    assert tick_recorded() is None


def test_the_scheduler_process_delivers_queued_mail(app, start_scheduler):
    recorder = Recorder()
    with write_transaction():
        message = send_mail("ada@example.com", "Your order 1042", "It is on its way.")

    with running_smtp(recorder) as port:
        process = start_scheduler(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_SECURITY="none")
        (received,) = recorder.wait_for(1, timeout=DEADLINE_SECONDS)
        row = wait_until(lambda: OutboxMessage.get_or_none(id=message.id, state=SENT))
        stop(process)

    assert received.rcpt_tos == ["ada@example.com"]
    assert received.message["Subject"] == "Your order 1042"
    assert received.message["Message-ID"] == message.message_id("shop.test")
    assert row.attempts == 1
    assert len(recorder.received) == 1


def test_the_scheduler_process_answers_a_sign_in_code_request(app, start_scheduler, client, customer):
    """Issue 19, 6: the request only asks; the jobs process makes the code, mails it and then
    erases it from the outbox (issue 19, 2); the code page in the browser takes it."""
    recorder = Recorder()
    post_form(client, "/sign-in/code", {"email": customer.email})
    with running_smtp(recorder) as port:
        process = start_scheduler(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_SECURITY="none")
        (received,) = recorder.wait_for(1, timeout=DEADLINE_SECONDS)
        row = wait_until(lambda: OutboxMessage.get_or_none(kind="sign_in_code", state=SENT))
        stop(process)
    assert received.rcpt_tos == [customer.email]
    text = received.message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    code = re.search(r"^(\d{6})$", text, re.M).group(1)
    assert code not in row.subject + row.text_body + row.html_body
    response = post_form(client, "/check-inbox", {"code": code})
    assert response.status_code == 303 and response.headers["Location"] == "/account/"


# --- the tick -----------------------------------------------------------------


@pytest.fixture
def no_due_work(monkeypatch):
    monkeypatch.setattr(jobs.tick, "DUE_WORK", [])


@pytest.fixture
def due_work(monkeypatch):
    """A decorator that makes a function the tick's next piece of work (and only these run)."""
    work = []
    monkeypatch.setattr(jobs.tick, "DUE_WORK", work)
    return lambda function: work.append(function) or function


def test_tick_runs_due_work_with_now_and_records_the_heartbeat(app, due_work):
    calls = []
    now = datetime.datetime(2030, 3, 31, 0, 30, tzinfo=datetime.UTC)

    @due_work
    def remember(when):
        calls.append(("remember", when))

    @due_work
    def and_this(when):
        calls.append(("and_this", when))

    assert last_beat(TICK) is None
    tick(now)

    assert calls == [("remember", now), ("and_this", now)]
    assert last_beat(TICK) == to_naive_utc(now)

    later = now + datetime.timedelta(minutes=1)
    tick(later)
    assert as_aware_utc(last_beat(TICK)) == later
    assert len(calls) == 4


def test_tick_heartbeat_is_stored_in_utc(app, no_due_work):
    paris = datetime.timezone(datetime.timedelta(hours=2))
    tick(datetime.datetime(2030, 6, 1, 14, 0, tzinfo=paris))
    assert last_beat(TICK) == datetime.datetime(2030, 6, 1, 12, 0)


def test_one_failing_piece_of_work_does_not_stop_the_others(app, due_work, caplog):
    calls = []
    now = datetime.datetime(2030, 1, 1, 12, 0, tzinfo=datetime.UTC)

    @due_work
    def broken(when):
        raise RuntimeError("bug in one feature")

    @due_work
    def healthy(when):
        calls.append(when)

    tick(now)

    assert calls == [now]
    assert last_beat(TICK) == to_naive_utc(now)
    assert "bug in one feature" in caplog.text


# --- the nightly backup --------------------------------------------------------


@pytest.mark.sqlite_only(reason="the nightly backup copies the SQLite file (PostgreSQL uses pg_dump)")
def test_a_scheduler_started_after_two_without_todays_backup_makes_it_at_once(app, start_scheduler, tmp_path):
    # A shop installed (or restarted after a night down) in the afternoon is backed up that day.
    zones = ("Europe/London", "Asia/Tokyo", "America/New_York")  # one of them is past 02:00
    update_settings({"timezone": next(z for z in zones if datetime.datetime.now(ZoneInfo(z)).hour >= 2)})
    process = start_scheduler()
    backups = tmp_path / "instance" / "backups"
    made = wait_until(lambda: sorted(backups.glob("shop-*.sqlite3")))
    assert len(made) == 1
    assert stop(process) == 0, process.log_path.read_text()
    assert "backup written to" in process.log_path.read_text()
