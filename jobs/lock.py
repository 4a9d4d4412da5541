"""The scheduler's lock: one file lock in the instance folder, held by `flask jobs` for its whole
life. Commands that must not run beside the jobs (restore, copy-to-postgres) take it too."""

import contextlib
import fcntl
import os

import click
from flask import current_app


class AlreadyRunning(Exception):
    pass


def acquire_lock(path):
    """Hold an exclusive lock on `path` for the life of the process."""
    handle = open(path, "a+")  # noqa: SIM115 - kept open on purpose
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise AlreadyRunning(path) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


@contextlib.contextmanager
def scheduler_stopped():
    """Hold the scheduler's lock (refused while `flask jobs` runs), so no job writes meanwhile."""
    try:
        lock = acquire_lock(current_app.config["JOBS_LOCK_PATH"])
    except AlreadyRunning:
        raise click.ClickException(
            "The scheduler is running (flask jobs): stop the shop's services first."
        ) from None
    try:
        yield
    finally:
        lock.close()
