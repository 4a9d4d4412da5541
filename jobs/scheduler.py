"""The one scheduler process: `flask --app shop jobs`.

Only one runs the jobs, however many times and on however many hosts it is started
(jobs/leadership.py): on SQLite a second one exits; on PostgreSQL the others stand by and the
first to get the lock after the leader is gone takes over.
"""

import datetime
import logging
import os
import signal
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from jobs.accounts import answer_mail_requests
from jobs.backup import nightly_backup
from jobs.leadership import lead
from jobs.lock import AlreadyRunning
from jobs.log import configure_logging
from jobs.mail import deliver_due
from jobs.mail import SmtpConfig
from jobs.tick import tick
from models.base import connection

log = logging.getLogger("shop.jobs")

MAIL_EVERY_SECONDS = 2
BACKUP_EVERY_SECONDS = 300  # asks whether tonight's backup is due; makes it once a day
LOST_LEAD_EXIT_STATUS = 3  # systemd's Restart=always starts it again, as a standby


def in_app(app, work, name, leadership):
    """Run `work(now)` inside the app with its own database connection, if this process still
    leads (a leader that lost its lock does nothing more: another host may lead now)."""

    def run():
        if not leadership.still_held():
            return
        with app.app_context(), connection():
            work(datetime.datetime.now(datetime.UTC))

    run.__name__ = name
    return run


def mail_work(now, smtp):
    """Every MAIL_EVERY_SECONDS: the reset links and sign-in codes visitors asked for are made
    first (they wait for them), then the outbox is delivered."""
    try:
        answer_mail_requests(now)
    finally:
        deliver_due(now, smtp)


def stop_on_sigterm(signum, frame):
    """systemd and honcho stop us with SIGTERM: shut down like Ctrl-C does."""
    raise SystemExit(0)


def run_scheduler(app):
    configure_logging()
    try:
        smtp = SmtpConfig.from_app_config(app.config)
    except ValueError as error:
        print(f"Mail settings are wrong: {error}", file=sys.stderr)
        sys.exit(2)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    leadership = scheduler = None
    try:
        leadership = lead(app.config)  # a standby waits here
        if not smtp.host:
            log.warning("SMTP_HOST is not set: messages stay in the outbox (see /admin/outbox)")
        scheduler = scheduler_with_jobs(app, smtp, leadership)
        scheduler.start()
        log.info("scheduler started (pid %s)", os.getpid())
        while not leadership.lost.wait(app.config["JOBS_LEADER_CHECK_SECONDS"]):
            leadership.still_held()
    except AlreadyRunning:
        print(
            "Another scheduler is already running for this shop "
            f"(lock held on {app.config['JOBS_LOCK_PATH']}); exiting.",
            file=sys.stderr,
        )
        sys.exit(1)
    except (KeyboardInterrupt, SystemExit):
        stop_when_asked(leadership, scheduler)
        return
    stop_at_once(scheduler)


def stop_when_asked(leadership, scheduler):
    """SIGTERM or Ctrl-C: finish the jobs in flight (a mail half-sent would turn `unknown`)
    before giving up the lead lets another scheduler start."""
    if leadership is None:
        log.info("stopped while waiting to lead")
        return
    log.info("stopping: waiting for running jobs to finish")
    if scheduler is not None and scheduler.running:
        scheduler.shutdown(wait=True)
    leadership.release()
    log.info("scheduler stopped")


def stop_at_once(scheduler):
    """The lead is lost and another host may lead already: not one more step. Jobs in flight end
    with the process, as if it had been killed (the outbox's claims and the daily jobs' job_run
    rows are made for that); systemd starts the service again, as a standby."""
    scheduler.shutdown(wait=False)
    log.error("scheduler stopped at once: this process no longer leads; exiting")
    logging.shutdown()
    os._exit(LOST_LEAD_EXIT_STATUS)


def scheduler_with_jobs(app, smtp, leadership):
    # Imported here: only the jobs process needs APScheduler, not every web worker that loads the
    # `flask jobs` command with the others (2–3 MB each).
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone=datetime.UTC)
    job_defaults = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 30}
    now = datetime.datetime.now(datetime.UTC)
    scheduler.add_job(
        in_app(app, lambda now: mail_work(now, smtp), "deliver_mail", leadership),
        "interval",
        seconds=MAIL_EVERY_SECONDS,
        next_run_time=now,  # mail that waited for a restart goes now
        id="deliver_mail",
        name="deliver mail",
        **job_defaults,
    )
    scheduler.add_job(
        in_app(app, tick, "tick", leadership),
        "interval",
        seconds=app.config["JOBS_TICK_SECONDS"],
        next_run_time=now,
        id="tick",
        name="tick",
        **job_defaults,
    )
    scheduler.add_job(
        in_app(app, nightly_backup, "nightly_backup", leadership),
        "interval",
        seconds=BACKUP_EVERY_SECONDS,
        next_run_time=now,  # started after 02:00 with none today: now
        id="nightly_backup",
        name="nightly backup",
        **job_defaults,
    )
    return scheduler


@click.command("jobs")
@with_appcontext
def jobs_command():
    """Run the scheduler (mail delivery, the minute tick, the nightly backup). One leads; on
    PostgreSQL the others stand by."""
    run_scheduler(current_app._get_current_object())
