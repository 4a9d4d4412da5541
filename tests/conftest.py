"""Fixtures: a migrated template database copied per test, the app, clients and factories."""

import itertools
import re
import shutil

import pytest

from models.base import bind_database
from models.base import connection
from models.base import db
from models.ledger import check_ledger
from models.migrate import apply_migrations
from models.settings import load_settings
from models.user import create_user
from models.user import CUSTOMER
from models.user import OWNER
from models.user import STAFF
from shop import create_app

TEST_PASSWORD = "correct horse battery"
CHEAP_HASH = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}
TEST_ENVIRONMENT = {"SHOP_BASE_URL": "http://shop.test", "SHOP_NAME": "Test Shop"}


@pytest.fixture(scope="session")
def template_database(tmp_path_factory):
    """One migrated database with default settings, built once per session."""
    path = tmp_path_factory.mktemp("template") / "shop.sqlite3"
    bind_database(f"sqlite:///{path}")
    with db.connection_context():
        apply_migrations()
        load_settings(TEST_ENVIRONMENT)
    return path


@pytest.fixture
def database_path(template_database, tmp_path):
    path = tmp_path / "shop.sqlite3"
    shutil.copy(template_database, path)
    return path


def app_config(database_path, instance_path, **overrides):
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(instance_path / "instance"),
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": f"sqlite:///{database_path}",
        "PASSWORD_HASH_COST": CHEAP_HASH,
        "SMTP_HOST": "",
        "JOBS_LOCK_PATH": str(instance_path / "instance" / "jobs.lock"),
    }
    config.update(overrides)
    return config


@pytest.fixture
def app(database_path, tmp_path):
    """The app, with a database connection open for the test's own queries.

    No app context stays pushed: requests must each get their own `g`.
    At teardown the ledger check runs on the test's database.
    """
    app = create_app(app_config(database_path, tmp_path))
    with connection():
        yield app
        # Every test that used the database leaves the ledger consistent.
        problems = check_ledger()
        assert problems == [], f"ledger check failed after the test: {problems}"


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
