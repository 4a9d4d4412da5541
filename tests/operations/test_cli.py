"""The flask commands: migrate, demo, create-owner."""

from models.base import bind_database
from models.base import db
from models.operations.migrate import pending_migrations
from models.users.user import authenticate
from models.users.user import OWNER
from models.users.user import User
from shop import create_app
from tests.conftest import app_config


def test_migrate_builds_an_empty_database_from_zero(tmp_path):
    app = create_app(app_config(tmp_path / "fresh.sqlite3", tmp_path))
    result = app.test_cli_runner().invoke(args=["migrate"])
    assert result.exit_code == 0, result.output
    assert "applied 0001_initial" in result.output
    again = app.test_cli_runner().invoke(args=["migrate"])
    assert "schema is up to date" in again.output
    bind_database(app.config["DATABASE_URL"])
    with db.connection_context():
        assert pending_migrations() == []
        assert {"user", "shop_settings", "outbox_message", "heartbeat"} <= set(db.get_tables())


def test_demo_is_idempotent_and_prints_the_accounts(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "owner@demo.shop" in first.output and "alice@demo.shop" in first.output
    count = User.select().count()
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert User.select().count() == count
    assert authenticate("alice@demo.shop", "demo-password") is not None
    assert User.by_email("owner@demo.shop").role == OWNER


def test_demo_if_empty_leaves_a_real_shop_alone(app, customer):
    result = app.test_cli_runner().invoke(args=["demo", "--if-empty"])
    assert "not loaded" in result.output
    assert User.by_email("alice@demo.shop") is None


def test_create_owner_reads_the_password_from_stdin(app):
    result = app.test_cli_runner().invoke(
        args=["create-owner", "Boss@Example.com", "--password-stdin"], input="a long secret phrase\n"
    )
    assert result.exit_code == 0, result.output
    user = authenticate("boss@example.com", "a long secret phrase")
    assert user is not None and user.role == OWNER


def test_create_owner_prompts_and_refuses_short_passwords_and_duplicates(app, customer):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["create-owner", "new@example.com", "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "at least 8" in short.output
    duplicate = runner.invoke(args=["create-owner", customer.email], input="long enough pw\nlong enough pw\n")
    assert duplicate.exit_code != 0 and "already has an account" in duplicate.output
    prompted = runner.invoke(
        args=["create-owner", "new@example.com"], input="long enough pw\nlong enough pw\n"
    )
    assert prompted.exit_code == 0, prompted.output
    assert User.by_email("new@example.com").role == OWNER
