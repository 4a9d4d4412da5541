"""Fixtures: a migrated template database copied per test, the app, clients and factories
(the factories themselves are plain functions in tests/factories.py).

The tests run on SQLite (a file per test) unless SHOP_TEST_POSTGRES_URL names a
PostgreSQL server (`make test-postgres` starts a throwaway one with
scripts/with-test-postgres.sh). Then the template is a migrated PostgreSQL
database and every test gets its own `CREATE DATABASE … TEMPLATE` copy, dropped
afterwards. Tests that need SQLite itself ask for `database_path` (the file) or
carry `@pytest.mark.sqlite_only(reason=…)`; both are skipped on PostgreSQL.
Everything else asks for `database_url` (or `app`) and runs on either.
"""

import datetime
import functools
import itertools
import os
import re
import shutil
import socket
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import pytest

from jobs.accounts import answer_mail_requests
from models.accounts.administration import create_user
from models.base import bind_database
from models.base import connection
from models.base import db
from models.base import make_database
from models.funds.ledger import check_ledger
from models.operations.migrate import apply_migrations
from models.shop.settings import ShopSettings
from models.users.user import CUSTOMER
from models.users.user import OWNER
from models.users.user import STAFF
from shop import create_app
from tests import factories
from tests.stripe_fake import fake_stripe

TEST_PASSWORD = "correct horse battery"
CHEAP_HASH = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
TEST_ENVIRONMENT = {"SHOP_BASE_URL": "http://shop.test", "SHOP_NAME": "Test Shop"}
TEST_BANK_DETAILS = {"bank_account_name": "Test Shop Ltd", "bank_iban": "GB33BUKB20201555555555"}


# postgresql://user@/postgres?host=/socket/folder: a server where the tests may create databases.
POSTGRES_URL = os.environ.get("SHOP_TEST_POSTGRES_URL", "")
_databases = itertools.count(1)


def postgres_url(name):
    """SHOP_TEST_POSTGRES_URL with the database `name` instead."""
    return urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{name}"))


LOOPBACK = ("127.", "::1", "localhost")


@pytest.fixture(autouse=True, scope="session")
def only_loopback():
    """No test reaches the network: a connection to anything but this machine fails at once.

    Separate processes (the fake Stripe, browsers, the jobs process) run their own code, each
    pointed at loopback by the test that starts it."""
    real_connect = socket.socket.connect

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not str(address[0]).startswith(LOOPBACK):
            raise OSError(f"tests may only connect to loopback, not {address[0]}")
        return real_connect(self, address)

    socket.socket.connect = connect
    yield
    socket.socket.connect = real_connect


def pytest_collection_modifyitems(config, items):
    if not POSTGRES_URL:
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "tests SQLite itself")
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


@pytest.fixture(scope="session")
def postgres_admin():
    """A connection to SHOP_TEST_POSTGRES_URL's own database, for CREATE and DROP DATABASE."""
    admin = make_database(POSTGRES_URL)
    admin.connect()
    yield admin
    admin.close()


@pytest.fixture(scope="session")
def template_database(request, tmp_path_factory):
    """One migrated database with default settings, built once per session.

    SQLite: the file's path. PostgreSQL: the template database's URL.
    """
    if POSTGRES_URL:
        admin = request.getfixturevalue("postgres_admin")
        name = f"shop_template_{os.getpid()}"  # one per pytest process, so parallel runs never meet
        admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute_sql(f'CREATE DATABASE "{name}"')
        url = postgres_url(name)
    else:
        path = tmp_path_factory.mktemp("template") / "shop.sqlite3"
        url = f"sqlite:///{path}"
    bind_database(url)
    with db.connection_context():  # closed again: PostgreSQL copies a template nobody is connected to
        apply_migrations(TEST_ENVIRONMENT)
        ShopSettings.update(**TEST_BANK_DETAILS).execute()  # bank transfer is offered only with them
    if not POSTGRES_URL:
        yield path
        return
    # A stray connection would make every copy fail ("being accessed by other users"): refuse them.
    admin.execute_sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
    yield url
    admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_path(template_database, tmp_path):
    """The test's own SQLite file, for tests that open it directly. Skips on PostgreSQL."""
    if POSTGRES_URL:
        pytest.skip("SQLite only: uses the SQLite database file (database_path); use database_url")
    path = tmp_path / "shop.sqlite3"
    shutil.copy(template_database, path)
    return path


@pytest.fixture
def database_url(request, template_database):
    """The test's own migrated database: a copy of the template, on SQLite or PostgreSQL."""
    if not POSTGRES_URL:
        # The same file as `database_path`, for tests that use both.
        yield f"sqlite:///{request.getfixturevalue('database_path')}"
        return
    admin = request.getfixturevalue("postgres_admin")
    template = urlsplit(template_database).path.lstrip("/")
    name = f"shop_test_{os.getpid()}_{next(_databases)}"
    # FILE_COPY (PostgreSQL 15+) copies the files at once: quicker for a small database.
    strategy = " STRATEGY FILE_COPY" if (admin.server_version or 0) >= 150000 else ""
    admin.execute_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{strategy}')
    yield postgres_url(name)
    # FORCE: ends connections a test left open (a race worker, a forgotten handle).
    admin.execute_sql(f'DROP DATABASE "{name}" WITH (FORCE)')


def app_config(database, instance_path, **overrides):
    """The app's test configuration; `database` is a SQLite file path or a database URL."""
    is_url = isinstance(database, str) and "://" in database
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(instance_path / "instance"),
        "SECRET_KEY": "test-secret",
        "SHOP_BASE_URL": TEST_ENVIRONMENT["SHOP_BASE_URL"],
        "DATABASE_URL": database if is_url else f"sqlite:///{database}",
        "PASSWORD_HASH_COST": CHEAP_HASH,
        "SMTP_HOST": "",
        "JOBS_LOCK_PATH": str(instance_path / "instance" / "jobs.lock"),
    }
    config.update(overrides)
    return config


@pytest.fixture(scope="session")
def stripe_server():
    """The base URL of the fake Stripe, one separate process for the whole session."""
    with fake_stripe() as base_url:
        yield base_url


@pytest.fixture
def app_overrides():
    """Configuration a folder's tests need on top of app_config (tests/payments: Stripe)."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, app_overrides):
    """The app, with a database connection open for the test's own queries.

    No app context stays pushed: requests must each get their own `g`.
    At teardown the ledger check runs on the test's database.
    """
    app = create_app(app_config(database_url, tmp_path, **app_overrides))
    with connection():
        yield app
        # Every test that used the database leaves the ledger consistent.
        problems = check_ledger()
        assert problems == [], f"ledger check failed after the test: {problems}"


@pytest.fixture
def ctx(app):
    """The app inside a request context, for code that builds links (url_for) outside a request."""
    with app.test_request_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


_emails = itertools.count(1)


@pytest.fixture
def make_user(app):
    """make_user(role="customer", email=None, password=TEST_PASSWORD, **fields)."""

    def make(role=CUSTOMER, email=None, password=TEST_PASSWORD, **fields):
        email = email or f"{role}{next(_emails)}@example.com"
        fields.setdefault("first_name", role.capitalize())
        fields.setdefault("last_name", "Tester")
        return create_user(email, password, role=role, **fields)

    return make


@pytest.fixture
def make_customer(make_user):
    return lambda **fields: make_user(CUSTOMER, **fields)


@pytest.fixture
def make_product(app):
    """make_product(price=1000, stock=10, name=None): "Tea 1", "Tea 2"… in the Tea category."""
    return functools.partial(factories.make_product, factories.make_category())


def csrf_token(client, path="/"):
    """The CSRF token the page at `path` carries for this client's session."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client, user, password=TEST_PASSWORD):
    response = client.post(
        "/sign-in",
        data={"email": user.email, "password": password, "csrf_token": csrf_token(client, "/sign-in")},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def run_mail_requests(app):
    """What the jobs process does within seconds of someone asking for a reset link or a sign-in
    code: the link or code is made and its message queued (models/accounts/mail_requests.py)."""
    with app.app_context():
        answer_mail_requests(datetime.datetime.now(datetime.UTC))


def post_form(client, path, data=None, page=None, **kwargs):
    """POST like a browser form: with the CSRF token from `page` (default: `path`)."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client, page or path))
    return client.post(path, data=data, **kwargs)


@pytest.fixture
def customer(make_user):
    return make_user(CUSTOMER)


@pytest.fixture
def owner(make_user):
    return make_user(OWNER)


@pytest.fixture
def staff(make_user):
    return make_user(STAFF)


@pytest.fixture
def customer_client(client, customer):
    sign_in(client, customer)
    return client


@pytest.fixture
def owner_client(client, owner):
    sign_in(client, owner)
    return client
