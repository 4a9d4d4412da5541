"""The PostgreSQL advisory locks the shop takes, with their keys in one place.

A lock is named by two integers: the shop's space (the same for every lock here) and the lock's
own number. Advisory locks belong to one database, so two shops on one server never meet.
They are session locks: the server frees them when the connection ends, however it ends.
"""

SHOP_SPACE = 0x73686F70  # "shop" in ASCII; fits PostgreSQL's int4
SCHEDULER = 1  # held by the one leading `flask jobs` (jobs/leadership.py)
MIGRATIONS = 2  # held while `flask migrate` runs (models/operations/migrate.py)

TRY_LOCK_SQL = "SELECT pg_try_advisory_lock(%s, %s)"
UNLOCK_SQL = "SELECT pg_advisory_unlock(%s, %s)"
# Whether this connection's session holds the lock: the two-integer form shows in pg_locks as
# classid, objid and objsubid 2.
HOLDS_SQL = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND classid = %s AND objid = %s AND objsubid = 2)"
)


def keys(lock):
    """The parameters of the SQL above for `lock` (SCHEDULER or MIGRATIONS)."""
    return (SHOP_SPACE, lock)
