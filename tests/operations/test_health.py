"""/healthz: database, migrations, scheduler heartbeat and the mail outbox."""

import datetime

import time_machine

from models.base import db
from models.base import write_transaction
from models.operations.health import TICK
from models.operations.health import TICK_STALE_AFTER
from models.operations.migrate import MIGRATIONS_DIR
from models.operations.migrate import runner
from models.shop.heartbeat import beat
from models.shop.outbox import FAILED
from models.shop.outbox import OutboxMessage
from models.shop.outbox import send_mail
from models.shop.outbox import SENDING
from models.shop.outbox import SENT
from models.shop.outbox import UNKNOWN
from shop import create_app
from tests.conftest import app_config

NOW = datetime.datetime(2030, 5, 4, 10, 0, tzinfo=datetime.UTC)


def healthz(client):
    response = client.get("/healthz")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "application/json"
    return response.status_code, response.get_json()


def queue_in_state(state):
    with write_transaction():
        message = send_mail("ada@example.com", "Hello", "Hello")
    OutboxMessage.update(state=state).where(OutboxMessage.id == message.id).execute()


def test_fresh_shop_is_ok_with_no_tick_yet(client):
    status, report = healthz(client)

    assert status == 200
    assert report == {
        "ok": True,
        "database": "ok",
        "migrations": "applied",
        "scheduler": {"last_tick_age_seconds": None, "healthy": False},
        "mail": {"waiting": 0, "failed": 0, "unknown": 0},
    }


def test_reports_the_age_of_the_last_tick(client):
    beat(TICK, NOW)

    with time_machine.travel(NOW + datetime.timedelta(seconds=42), tick=False):
        status, report = healthz(client)

    assert status == 200
    assert report["scheduler"] == {"last_tick_age_seconds": 42, "healthy": True}


def test_a_stale_tick_is_reported_but_the_web_stays_ok(client):
    beat(TICK, NOW)

    with time_machine.travel(NOW + TICK_STALE_AFTER + datetime.timedelta(seconds=1), tick=False):
        status, report = healthz(client)

    # A stopped scheduler must not take the web workers out of a load balancer.
    assert status == 200 and report["ok"] is True
    assert report["scheduler"] == {
        "last_tick_age_seconds": TICK_STALE_AFTER.total_seconds() + 1,
        "healthy": False,
    }


def test_counts_waiting_failed_and_unknown_mail(client):
    for state in ("queued", "queued", SENDING, FAILED, UNKNOWN, UNKNOWN, UNKNOWN, SENT):
        queue_in_state(state)

    status, report = healthz(client)

    assert status == 200
    assert report["mail"] == {"waiting": 3, "failed": 1, "unknown": 3}


def migration_names():
    return sorted(path.stem for path in MIGRATIONS_DIR.glob("[0-9]*.py"))


def test_unmigrated_database_answers_503(tmp_path):
    empty = tmp_path / "empty.sqlite3"
    app = create_app(app_config(empty, tmp_path))

    status, report = healthz(app.test_client())

    assert status == 503
    assert report["ok"] is False
    assert report["database"] == "ok"
    assert report["migrations"] == {"pending": migration_names()}
    assert report["migrations"]["pending"][0] == "0001_initial"


def test_newest_migration_not_applied_answers_503(app, client):
    newest = migration_names()[-1]
    history = runner().History
    assert history.delete().where(history.name == newest).execute() == 1

    status, report = healthz(client)

    assert status == 503
    assert report == {"ok": False, "database": "ok", "migrations": {"pending": [newest]}}


def test_health_check_does_not_write_to_an_unmigrated_database(tmp_path):
    empty = tmp_path / "empty.sqlite3"
    app = create_app(app_config(empty, tmp_path))

    healthz(app.test_client())
    healthz(app.test_client())

    with db.connection_context():
        assert db.get_tables() == []


def test_unreachable_database_answers_503_in_json(tmp_path):
    app = create_app(app_config(tmp_path / "no" / "such" / "folder" / "shop.sqlite3", tmp_path))

    status, report = healthz(app.test_client())

    assert status == 503
    assert report == {"ok": False, "database": "unreachable: OperationalError"}
