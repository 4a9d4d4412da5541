"""The app factory, configuration, security headers, error pages and the database helper."""

import json
import logging
import multiprocessing
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from flask import request

from models.base import db
from models.base import write_transaction
from models.groups.group import new_member
from models.shop.settings import load_settings
from models.users.user import User
from shop import create_app
from shop import instance_secret_key
from tests.conftest import app_config
from tests.conftest import csrf_token
from views.request_log import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]


def _read_key(instance_path, queue):
    queue.put(instance_secret_key(instance_path))


def test_secret_key_is_generated_once_and_shared_by_concurrent_workers(tmp_path):
    queue = multiprocessing.get_context("fork").Queue()
    workers = [
        multiprocessing.get_context("fork").Process(target=_read_key, args=(str(tmp_path), queue))
        for _ in range(6)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(10)
    keys = {queue.get(timeout=5) for _ in workers}
    assert len(keys) == 1
    (key,) = keys
    assert len(key) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert list(tmp_path.iterdir()) == [tmp_path / "secret_key"]


def test_no_fixed_secret_in_code(database_path, tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    config = app_config(database_path, tmp_path, SECRET_KEY=None)
    first = create_app(config)
    second = create_app(config)
    assert len(first.config["SECRET_KEY"]) == 64
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["SECRET_KEY"] == (tmp_path / "instance" / "secret_key").read_text()


@pytest.mark.sqlite_only(reason="SQLite's pragmas")
def test_sqlite_pragmas_for_money(app):
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_write_transaction_takes_the_write_lock_at_begin(app, database_path):
    other = sqlite3.connect(database_path, timeout=0)
    with write_transaction():
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    other.rollback()
    other.close()


def test_write_transaction_rolls_back_everything_on_error(app, make_user):
    with pytest.raises(RuntimeError), write_transaction():
        new_member(email="half@example.com")
        raise RuntimeError("boom")
    assert User.by_email("half@example.com") is None


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@pytest.mark.parametrize("path", ["/", "/sign-in", "/account/", "/cart", "/no-such-page", "/healthz"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


def test_session_cookie_flags(client):
    response = client.get("/sign-in")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http base URL in tests


def test_https_base_url_makes_cookies_secure_and_sends_hsts(database_path, tmp_path, monkeypatch):
    monkeypatch.setenv("SHOP_BASE_URL", "https://shop.example")
    app = create_app(app_config(database_path, tmp_path))
    response = app.test_client().get("/sign-in")
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_trusted_proxy_headers_only_when_configured(database_path, tmp_path):
    plain = create_app(app_config(database_path, tmp_path))
    proxied = create_app(app_config(database_path, tmp_path, TRUSTED_PROXIES=1))
    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    with plain.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        assert request.remote_addr == "127.0.0.1"
    environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_X_FORWARDED_FOR": "203.0.113.9",
        "HTTP_X_FORWARDED_PROTO": "https",
    }
    seen = {}

    @proxied.get("/whoami")
    def whoami():

        seen["addr"], seen["scheme"] = request.remote_addr, request.scheme
        return "ok"

    proxied.test_client().get("/whoami", environ_base=environ)
    assert seen == {"addr": "203.0.113.9", "scheme": "https"}


def test_unknown_url_gets_friendly_404_in_layout(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html and "Test Shop" in html


def test_wrong_method_gets_405_with_allow(client):
    response = client.delete("/")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "That action isn&#39;t available here" in response.get_data(as_text=True)


def test_missing_csrf_token_gets_friendly_400_and_changes_nothing(client, customer):
    response = client.post("/sign-in", data={"email": customer.email, "password": "x"})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)


def test_wrong_csrf_token_is_refused(client, customer):
    response = client.post(
        "/sign-in", data={"email": customer.email, "password": "x", "csrf_token": "forged"}
    )
    assert response.status_code == 400


def test_htmx_error_is_a_fragment_retargeted_to_the_message_area(client):
    response = client.post("/sign-out", headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#messages"
    assert "<html" not in response.get_data(as_text=True)


# The owner's settings form, filled: posted while the database is too busy to save it.
BUSY_SETTINGS_FORM = {
    "shop_name": "Busy Shop",
    "contact_email": "a@example.com",
    "country": "GB",
    "locale": "en_GB",
    "timezone": "Europe/London",
    "currency": "GBP",
    "staff_money_limit": "50",
    "signup_bonus": "0",
    "topup_min": "10",
    "topup_max": "1000",
    "default_credit_limit": "0",
    "credit_terms_days": "30",
    "new_order_emails": "each",
}


def test_database_busy_gives_503_and_writes_nothing(owner_client, database_path):
    token = csrf_token(owner_client, "/admin/settings")
    db.execute_sql("PRAGMA busy_timeout = 100")
    blocker = sqlite3.connect(database_path)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        response = owner_client.post(
            "/admin/settings",
            data={"csrf_token": token, **BUSY_SETTINGS_FORM},
        )
    finally:
        blocker.rollback()
        blocker.close()
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "5"
    assert "very busy" in response.get_data(as_text=True)
    assert load_settings().shop_name == "Test Shop"


def test_large_body_is_refused(client):
    response = client.post("/sign-in", data={"email": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413


def test_manifest_and_icons_are_served(client):
    with client.get("/static/manifest.webmanifest") as manifest:
        assert manifest.status_code == 200
        icons = manifest.get_json(force=True)["icons"]
    for icon in icons:
        with client.get(icon["src"]) as response:
            assert response.status_code == 200


def test_every_response_carries_a_request_id_and_logs_one_json_line(app, client, caplog):

    with caplog.at_level(logging.INFO, logger="shop.requests"):
        given = client.get("/", headers={"X-Request-ID": "abc123def456"})
        made_up = client.get("/no-such-page", headers={"X-Request-ID": "bad id; drop table"})
    assert given.headers["X-Request-ID"] == "abc123def456"
    assert made_up.status_code == 404 and len(made_up.headers["X-Request-ID"]) == 32  # a new one
    lines = [json.loads(JsonFormatter().format(record)) for record in caplog.records]
    assert [(line["route"], line["status"]) for line in lines] == [("/", 200), ("(no route)", 404)]
    assert lines[0]["message"] == "request" and lines[0]["ms"] >= 0 and lines[0]["user"] is None
    assert lines[0]["request_id"] == "abc123def456"
    assert lines[0]["time"].endswith("Z")


def test_log_lines_never_carry_the_secrets_of_links(client, caplog):

    with caplog.at_level(logging.INFO, logger="shop.requests"):
        client.get("/reset-password/SECRET-TOKEN-123")
    assert caplog.records and "SECRET-TOKEN-123" not in str(caplog.records[0].__dict__)


def test_any_models_module_imported_first_gives_a_whole_user(app, database_url):
    """A script or a worker process that imports one module of models/ (no create_app) still gets
    User's group and default addresses, which are defined in packages above users."""
    script = (
        "import sys\n"
        "from models.base import bind_database, db\n"
        "from models.users.user import User\n"
        "bind_database(sys.argv[1])\n"
        "with db.connection_context():\n"
        "    user = User.get(User.email == sys.argv[2])\n"
        "    print(user.group.name, user.default_billing_id)\n"
    )
    customer = new_member(email="whole@example.com")
    done = subprocess.run(
        [sys.executable, "-c", script, database_url, customer.email],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [customer.group.name, "None"]
