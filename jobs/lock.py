"""The scheduler's lock on SQLite: one file lock in the instance folder, held by `flask jobs` for
its whole life (jobs/leadership.py; on PostgreSQL an advisory lock stands in for it)."""

import fcntl
import os


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
