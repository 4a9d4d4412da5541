"""Shop: the customer side of a small online shop.

`create_app()` is the application factory (`flask --app shop …` finds it).
It never opens the database: connections are opened per request and per job,
so gunicorn can fork safely.
"""

import contextlib
import os
import secrets
import sys
from pathlib import Path

import click
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from models.base import bind_database
from models.reactions import connect as connect_reactions
from models.users import passwords


def create_app(test_config=None):
    instance_path = (test_config or {}).get("INSTANCE_PATH") or os.environ.get("SHOP_INSTANCE_PATH")
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(default_config(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)

    bind_database(app.config["DATABASE_URL"], app.config["DATABASE_BUSY_TIMEOUT"])
    connect_reactions()
    if app.config.get("PASSWORD_HASH_COST"):
        passwords.configure(**app.config["PASSWORD_HASH_COST"])
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from views import init_app as init_views

    init_views(app)

    register_commands(app)
    return app


def default_config(instance_path):
    env = os.environ
    base_url = env.get("SHOP_BASE_URL", "http://127.0.0.1:5000")
    return {
        "SECRET_KEY": env.get("SECRET_KEY"),
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{os.path.join(instance_path, 'shop.sqlite3')}",
        "DATABASE_BUSY_TIMEOUT": float(env.get("DATABASE_BUSY_TIMEOUT", "10")),
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        "PREFERRED_URL_SCHEME": "https" if base_url.startswith("https://") else "http",
        "SESSION_COOKIE_SECURE": base_url.startswith("https://"),
        "REMEMBER_COOKIE_SECURE": base_url.startswith("https://"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "SMTP_HOST": env.get("SMTP_HOST", ""),
        "SMTP_PORT": int(env.get("SMTP_PORT", "587")),
        "SMTP_SECURITY": env.get("SMTP_SECURITY", "starttls"),
        "SMTP_USERNAME": env.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_TIMEOUT": float(env.get("SMTP_TIMEOUT", "20")),
        "MAIL_FROM": env.get("MAIL_FROM", ""),
        "JOBS_LOCK_PATH": env.get("JOBS_LOCK_PATH") or os.path.join(instance_path, "jobs.lock"),
        # The nightly backup (jobs/backup.py); an empty BACKUP_DIR turns it off.
        "BACKUP_DIR": env.get("BACKUP_DIR", os.path.join(instance_path, "backups")),
        "BACKUP_KEEP": int(env.get("BACKUP_KEEP", "14")),
    }


def instance_secret_key(instance_path):
    """The secret key kept in the instance folder, created once.

    Written to a temporary file and hard-linked into place: the link fails
    if another worker got there first, and then everyone reads the winner's key.
    """
    key_path = Path(instance_path) / "secret_key"
    if not key_path.exists():
        tmp_path = key_path.with_name(f"secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        tmp_path.write_text(secrets.token_hex(32))
        tmp_path.chmod(0o600)
        try:
            os.link(tmp_path, key_path)
        except FileExistsError:
            pass
        finally:
            tmp_path.unlink()
    return key_path.read_text().strip()


def register_commands(app):
    """`flask --app shop migrate | demo | create-owner | jobs`."""

    @app.cli.command("migrate")
    def migrate_command():
        """Apply pending schema migrations."""
        from models.base import connection
        from models.operations.migrate import apply_migrations

        with connection():
            applied = apply_migrations()
        click.echo("\n".join(f"applied {name}" for name in applied) or "schema is up to date")

    @app.cli.command("demo")
    @click.option("--if-empty", is_flag=True, help="Only when the shop has no accounts yet.")
    def demo_command(if_empty):
        """Apply migrations and load demo data (safe to run again)."""
        from models.base import connection
        from models.operations.demo import load_demo_data
        from models.operations.migrate import apply_migrations
        from models.users.user import User

        with connection():
            apply_migrations()
            if if_empty and User.select().exists():
                click.echo("The shop has accounts already; demo data not loaded.")
                return
            for line in load_demo_data():
                click.echo(line)

    @app.cli.command("create-owner")
    @click.argument("email")
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
    def create_owner_command(email, password_stdin):
        """Create the shop owner's account."""
        from models.accounts.administration import create_user
        from models.base import connection
        from models.users.user import OWNER
        from models.users.user import User

        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        if len(password) < 8:
            raise click.ClickException("The password needs at least 8 characters.")
        with connection():
            if User.by_email(email):
                raise click.ClickException(f"{email} already has an account.")
            user = create_user(email, password, role=OWNER)
        click.echo(f"Owner {user.email} created.")

    ledger_group = click.Group("ledger", help="The funds ledger.")
    app.cli.add_command(ledger_group)

    @ledger_group.command("check")
    def ledger_check_command():
        """Verify every ledger invariant; exit 1 with a report when one fails."""
        from models.base import connection
        from models.funds.ledger import check_ledger

        with connection():
            problems = check_ledger()
        if problems:
            click.echo(f"Ledger check FAILED ({len(problems)} problem(s)):", err=True)
            for problem in problems:
                click.echo(f"  - {problem}", err=True)
            sys.exit(1)
        click.echo(
            "Ledger check passed: every journal balances and every cached balance matches its entries."
        )

    @app.cli.command("backup")
    @click.argument("target", type=click.Path())
    def backup_command(target):
        """Copy the live SQLite database to TARGET (a file, or a folder for a dated file), checked."""
        from models.operations.backup import BackupError
        from models.operations.backup import make_backup

        try:
            backup = make_backup(target)
        except BackupError as error:
            raise click.ClickException(str(error)) from error
        click.echo(f"Backup written to {backup.path} (integrity check passed).")
        if backup.ledger_problems:
            click.echo("The ledger check fails on it, as on the shop:", err=True)
            for problem in backup.ledger_problems[:20]:
                click.echo(f"  - {problem}", err=True)
            sys.exit(1)

    @app.cli.command("restore")
    @click.argument("backup", type=click.Path())
    @click.option("--yes", is_flag=True, help="Do not ask: the web and jobs services are stopped.")
    def restore_command(backup, yes):
        """Replace the SQLite database with BACKUP (checked first; the old file is kept). Stop the shop first."""
        from models.operations.backup import BackupError
        from models.operations.backup import restore_backup

        if not yes:
            click.confirm(
                "Are the shop's web and jobs services stopped? The database will be replaced", abort=True
            )
        with scheduler_stopped():
            try:
                kept = restore_backup(backup)
            except BackupError as error:
                raise click.ClickException(str(error)) from error
        click.echo(f"Restored {backup}." + (f" The replaced database is kept at {kept}." if kept else ""))

    @contextlib.contextmanager
    def scheduler_stopped():
        """Hold the scheduler's lock (refused while `flask jobs` runs), so no job writes meanwhile."""
        from jobs.scheduler import acquire_lock
        from jobs.scheduler import AlreadyRunning

        try:
            lock = acquire_lock(app.config["JOBS_LOCK_PATH"])
        except AlreadyRunning:
            raise click.ClickException(
                "The scheduler is running (flask jobs): stop the shop's services first."
            ) from None
        try:
            yield
        finally:
            lock.close()

    @app.cli.command("copy-to-postgres")
    @click.argument("target_url")
    def copy_to_postgres_command(target_url):
        """Copy this SQLite shop into the empty PostgreSQL database TARGET_URL and check the copy."""
        from models.base import connection
        from models.operations.copy_database import copy_to_postgres
        from models.operations.copy_database import CopyError

        with scheduler_stopped(), connection():
            try:
                report = copy_to_postgres(target_url, progress=click.echo)
            except CopyError as error:
                raise click.ClickException(str(error)) from error
        click.echo(
            f"Copied {sum(report.rows.values())} rows in {len(report.rows)} tables; the counts match and the "
            "ledger check passes on both sides. Point DATABASE_URL at the new database and restart the shop."
        )

    from jobs.reminders import reminders_cli

    app.cli.add_command(reminders_cli)

    @app.cli.command("jobs")
    def jobs_command():
        """Run the scheduler (mail delivery and the minute tick). Only one may run."""
        from jobs.scheduler import run_scheduler

        run_scheduler(app)
