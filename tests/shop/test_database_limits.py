"""PostgreSQL's connections as the web hosts use them (models.base.PostgresLimits): a pool per
process, time limits on lock waits and statements, and the friendly 503 "very busy" page when
the database is overloaded, rendered without asking the database anything."""

import os
import threading
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import pytest
from peewee import OperationalError

from models.base import db
from models.base import make_database
from models.base import PostgresLimits
from models.shop.settings import load_settings
from shop import create_app
from tests.conftest import app_config
from tests.conftest import csrf_token
from tests.conftest import POSTGRES_URL
from tests.shop.test_app import BUSY_SETTINGS_FORM
from views.errors import database_overloaded

postgres_only = pytest.mark.skipif(not POSTGRES_URL, reason="needs a PostgreSQL server (make test-postgres)")


@pytest.fixture
def app_overrides():
    return {"DATABASE_POOL_SIZE": 2, "DATABASE_POOL_WAIT": 0.2, "DATABASE_LOCK_TIMEOUT": 0.3}


def test_time_limits_become_libpq_options():
    limits = PostgresLimits(statement_timeout=30, lock_timeout=0.25)
    assert limits.connection_options() == "-c statement_timeout=30000 -c lock_timeout=250"
    assert limits.connection_options("-c search_path=shop") == (
        "-c search_path=shop -c statement_timeout=30000 -c lock_timeout=250"
    )
    assert PostgresLimits().connection_options() == ""


def in_another_thread(work):
    """Run `work` in a thread of its own: it gets its own connection from the pool, as a second
    request being served at the same time would (the test's thread holds one)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        finally:
            if not db.is_closed():
                db.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    return outcome["value"]


def backends(database_url):
    name = urlsplit(database_url).path.lstrip("/")
    watcher = make_database(POSTGRES_URL)
    with watcher.connection_context():
        rows = watcher.execute_sql(
            "SELECT backend_start FROM pg_stat_activity WHERE datname = %s ORDER BY backend_start", (name,)
        ).fetchall()
    return [row[0] for row in rows]


@postgres_only
def test_requests_reuse_the_pools_connections(app, database_url):
    client = app.test_client()
    assert len(backends(database_url)) == 1  # the test's own
    assert in_another_thread(lambda: client.get("/").status_code) == 200
    kept = backends(database_url)
    assert len(kept) == 2  # the first request's connection stays open in the pool
    for _ in range(4):
        assert in_another_thread(lambda: client.get("/").status_code) == 200
    assert backends(database_url) == kept  # and serves the next requests: none opened since


@postgres_only
def test_no_free_connection_in_the_pool_answers_503(app):
    """The pool holds 2: the test's thread has one, a slow request the other; a third waits
    DATABASE_POOL_WAIT for one and gets the busy page (in the visitor's language)."""
    client = app.test_client()
    taken = threading.Event()
    release = threading.Event()

    def slow_request():
        db.connect()
        taken.set()
        release.wait(10)
        db.close()

    holder = threading.Thread(target=slow_request)
    holder.start()
    taken.wait(10)
    try:
        response = in_another_thread(lambda: client.get("/", headers={"Accept-Language": "fr"}))
    finally:
        release.set()
        holder.join()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    page = response.get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "/static/" in page  # styled like the shop


@postgres_only
def test_a_lock_wait_over_the_limit_answers_503_and_saves_nothing(owner_client, database_url):
    token = csrf_token(owner_client, "/admin/settings")
    blocker = make_database(database_url)
    blocker.connect()
    blocker.execute_sql("BEGIN")
    blocker.execute_sql("SELECT id FROM shop_settings WHERE id = 1 FOR UPDATE")
    try:
        response = owner_client.post("/admin/settings", data={"csrf_token": token, **BUSY_SETTINGS_FORM})
    finally:
        blocker.execute_sql("ROLLBACK")
        blocker.close()
    assert response.status_code == 503, response.get_data(as_text=True)[:2000]
    assert "very busy" in response.get_data(as_text=True)
    assert load_settings().shop_name == "Test Shop"


@postgres_only
def test_a_statement_over_its_time_limit_is_cancelled_and_counts_as_busy(database_url):
    slow = make_database(database_url, limits=PostgresLimits(statement_timeout=0.2))
    with slow.connection_context(), pytest.raises(OperationalError) as cancelled:
        slow.execute_sql("SELECT pg_sleep(5)")
    assert database_overloaded(cancelled.value)


@postgres_only
def test_too_many_connections_answers_503_without_touching_the_database(
    postgres_admin, database_url, tmp_path
):
    role = f"shop_full_{os.getpid()}"
    postgres_admin.execute_sql(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0')
    try:
        parts = urlsplit(database_url)
        host = parts.netloc.split("@", 1)[-1]
        url = urlunsplit(parts._replace(netloc=f"{role}@{host}"))
        app = create_app(app_config(url, tmp_path))
        response = in_another_thread(lambda: app.test_client().get("/account"))
    finally:
        postgres_admin.execute_sql(f'DROP ROLE "{role}"')
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "The shop is very busy" in page
    assert "Nothing was saved" in page
