"""The one scheduler process: `flask --app shop jobs`.

A lock file makes sure only one runs, however many times it is started.
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
from jobs.lock import acquire_lock
from jobs.lock import AlreadyRunning
from jobs.log import configure_logging
from jobs.mail import deliver_due
from jobs.mail import SmtpConfig
from jobs.tick import tick
from models.base import connection

log = logging.getLogger("shop.jobs")

MAIL_EVERY_SECONDS = 2
TICK_EVERY_SECONDS = 60
BACKUP_EVERY_SECONDS = 300  # asks whether tonight's backup is due; makes it once a day


def in_app(app, work, name):
    """Run `work(now)` inside the app with its own database connection."""

    def run():
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
    # Imported here: only the jobs process needs APScheduler, not every web worker that loads the
    # `flask jobs` command with the others (2–3 MB each).
    from apscheduler.schedulers.blocking import BlockingScheduler

    configure_logging()
    try:
        smtp = SmtpConfig.from_app_config(app.config)
    except ValueError as error:
        print(f"Mail settings are wrong: {error}", file=sys.stderr)
        sys.exit(2)
    try:
        lock = acquire_lock(app.config["JOBS_LOCK_PATH"])
    except AlreadyRunning:
        print(
            "Another scheduler is already running for this shop "
            f"(lock held on {app.config['JOBS_LOCK_PATH']}); exiting.",
            file=sys.stderr,
        )
        sys.exit(1)
    if not smtp.host:
        log.warning("SMTP_HOST is not set: messages stay in the outbox (see /admin/outbox)")
    scheduler = BlockingScheduler(timezone=datetime.UTC)
    job_defaults = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 30}

    scheduler.add_job(
        in_app(app, lambda now: mail_work(now, smtp), "deliver_mail"),
        "interval",
        seconds=MAIL_EVERY_SECONDS,
        next_run_time=datetime.datetime.now(datetime.UTC),  # mail that waited for a restart goes now
        id="deliver_mail",
        name="deliver mail",
        **job_defaults,
    )
    scheduler.add_job(
        in_app(app, tick, "tick"),
        "interval",
        seconds=TICK_EVERY_SECONDS,
        next_run_time=datetime.datetime.now(datetime.UTC),
        id="tick",
        name="tick",
        **job_defaults,
    )
    scheduler.add_job(
        in_app(app, nightly_backup, "nightly_backup"),
        "interval",
        seconds=BACKUP_EVERY_SECONDS,
        next_run_time=datetime.datetime.now(datetime.UTC),  # started after 02:00 with none today: now
        id="nightly_backup",
        name="nightly backup",
        **job_defaults,
    )
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    log.info("scheduler started (pid %s)", os.getpid())
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("stopping: waiting for running jobs to finish")
    finally:
        # BlockingScheduler.start() lets the interrupt through without shutting
        # down: finish the jobs in flight (a mail half-sent would turn
        # `unknown`) before the lock lets another scheduler start.
        if scheduler.running:
            scheduler.shutdown(wait=True)
        lock.close()
        log.info("scheduler stopped")


@click.command("jobs")
@with_appcontext
def jobs_command():
    """Run the scheduler (mail delivery and the minute tick). Only one may run."""
    run_scheduler(current_app._get_current_object())
