"""Daily jobs run once per shop day, whichever host's scheduler leads (issue 25).

A daily job claims its (job, day) row in a transaction of its own before it works, and marks it
finished after: a scheduler that takes over later the same day finds the day claimed and skips
the job. A job that fails gives its claim back, so its next run tries again. A claim never
finished (its leader died mid-run) may be taken again after the job's `retake_after`: the daily
jobs are safe to run twice (a second backup file, a second ledger check), so a lost run is
worse than a repeated one.
"""

import socket

from peewee import CharField
from peewee import DateField
from peewee import DateTimeField
from peewee import IntegrityError

from models.base import BaseModel
from models.base import to_naive_utc
from models.base import utcnow
from models.base import write_transaction


class JobRun(BaseModel):
    job = CharField()
    day = DateField()  # the shop day the run is for
    started_at = DateTimeField()
    finished_at = DateTimeField(null=True)  # None: running, or its leader died mid-run
    host = CharField()  # which host's scheduler claimed it, for the owner reading the table

    class Meta:
        table_name = "job_run"
        indexes = ((("job", "day"), True),)


def run_once_for_day(job, day, now, retake_after, work):
    """Run `work()` if no scheduler has run `job` for `day` yet; its result, or None if skipped."""
    claim = _claim(job, day, to_naive_utc(now), retake_after)
    if claim is None:
        return None
    try:
        result = work()
    except BaseException:
        with write_transaction():
            JobRun.delete().where(JobRun.id == claim.id).execute()
        raise
    with write_transaction():
        JobRun.update(finished_at=utcnow()).where(JobRun.id == claim.id).execute()
    return result


def _claim(job, day, now, retake_after):
    """The day's claim for this host, or None when the day is done or another run holds it."""
    done = JobRun.get_or_none((JobRun.job == job) & (JobRun.day == day))
    if done is not None and not _retakable(done, now, retake_after):
        return None  # read first: no write transaction on every tick of the rest of the day
    try:
        with write_transaction():
            row = JobRun.get_or_none((JobRun.job == job) & (JobRun.day == day))
            if row is None:
                return JobRun.create(job=job, day=day, started_at=now, host=socket.gethostname())
            if not _retakable(row, now, retake_after):
                return None
            # Only if nobody retook it meanwhile (PostgreSQL re-reads the row after waiting).
            retaken = (
                JobRun.update(started_at=now, host=socket.gethostname())
                .where((JobRun.id == row.id) & (JobRun.started_at == row.started_at))
                .execute()
            )
            return JobRun.get_by_id(row.id) if retaken else None
    except IntegrityError:  # another scheduler claimed the day first (PostgreSQL)
        return None


def _retakable(row, now, retake_after):
    return row.finished_at is None and row.started_at <= now - retake_after
