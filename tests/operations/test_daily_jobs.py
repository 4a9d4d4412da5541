"""Daily jobs run once per shop day whichever scheduler leads (issue 25): the job_run claims,
on SQLite and PostgreSQL."""

import datetime
import threading

import pytest

from jobs.backup import nightly_backup
from jobs.ledger import nightly_ledger_check
from models.base import connection
from models.base import to_naive_utc
from models.funds.ledger import LedgerCheckRun
from models.operations.daily_jobs import JobRun
from models.operations.daily_jobs import run_once_for_day

DAY = datetime.date(2026, 12, 1)
MORNING = datetime.datetime(2026, 12, 1, 4, 0, tzinfo=datetime.UTC)
RETAKE = datetime.timedelta(minutes=15)


def counting():
    calls = []
    return calls, lambda: calls.append(1) or len(calls)


def test_a_daily_job_runs_once_per_day_and_again_the_next_day(app):
    calls, work = counting()
    assert run_once_for_day("check", DAY, MORNING, RETAKE, work) == 1
    assert run_once_for_day("check", DAY, MORNING + datetime.timedelta(hours=5), RETAKE, work) is None
    assert run_once_for_day("other", DAY, MORNING, RETAKE, work) == 2  # each job has its own day
    assert run_once_for_day("check", DAY + datetime.timedelta(days=1), MORNING, RETAKE, work) == 3
    row = JobRun.get(job="check", day=DAY)
    assert row.started_at == to_naive_utc(MORNING) and row.finished_at is not None and row.host


def test_a_job_that_fails_gives_its_day_back_and_runs_again_next_time(app):
    def broken():
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):  # the scheduler logs it
        run_once_for_day("backup", DAY, MORNING, RETAKE, broken)
    assert not JobRun.select().exists()
    calls, work = counting()
    assert run_once_for_day("backup", DAY, MORNING + datetime.timedelta(minutes=5), RETAKE, work) == 1


def test_a_claim_whose_scheduler_died_is_taken_again_only_after_its_retake_time(app):
    JobRun.create(job="check", day=DAY, started_at=to_naive_utc(MORNING), host="dead-host")
    calls, work = counting()
    assert (
        run_once_for_day("check", DAY, MORNING + RETAKE - datetime.timedelta(seconds=1), RETAKE, work) is None
    )
    assert calls == []  # maybe still running on the other host
    assert run_once_for_day("check", DAY, MORNING + RETAKE, RETAKE, work) == 1
    row = JobRun.get(job="check", day=DAY)
    assert row.host != "dead-host" and row.finished_at is not None


def test_two_schedulers_claiming_the_same_day_at_once_run_the_job_once(app):
    """Two leaders for a moment (a stalled one waking up): each thread has its own connection."""
    ran = []
    start = threading.Barrier(2)

    def scheduler():
        with app.app_context(), connection():
            start.wait()
            run_once_for_day("check", DAY, MORNING, RETAKE, lambda: ran.append(threading.get_ident()))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(ran) == 1
    assert JobRun.select().count() == 1


def test_the_nightly_ledger_check_skips_a_day_another_scheduler_claimed(app):
    three_oclock = datetime.datetime(2026, 12, 1, 3, 30, tzinfo=datetime.UTC)  # London in winter
    JobRun.create(job="nightly_ledger_check", day=DAY, started_at=to_naive_utc(three_oclock), host="other")
    assert nightly_ledger_check(three_oclock + datetime.timedelta(minutes=1)) is None
    assert not LedgerCheckRun.select().exists()
    assert nightly_ledger_check(three_oclock + datetime.timedelta(days=1)) == []  # the next day's
    assert LedgerCheckRun.select().count() == 1


def test_the_nightly_backup_is_made_once_a_day_even_by_hosts_with_their_own_folders(app, tmp_path):
    """Each host keeps its backups in its own instance folder: the day's claim, not the files,
    says the night is done."""
    night = datetime.datetime(2026, 12, 1, 2, 5, tzinfo=datetime.UTC)
    with app.app_context():
        app.config["BACKUP_DIR"] = str(tmp_path / "host-a")
        assert nightly_backup(night) is not None
        app.config["BACKUP_DIR"] = str(tmp_path / "host-b")
        assert nightly_backup(night + datetime.timedelta(hours=3)) is None
    assert not (tmp_path / "host-b").exists()
    assert JobRun.get(job="nightly_backup").day == DAY
