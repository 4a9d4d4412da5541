"""The `flask` commands that set up and move the shop's database: migrate, demo, copy-to-postgres."""

import click
from flask.cli import with_appcontext

from jobs.leadership import scheduler_stopped
from models.base import connection
from models.operations.copy_database import copy_to_postgres
from models.operations.copy_database import CopyError
from models.operations.demo import load_demo_data
from models.operations.migrate import apply_migrations
from models.operations.migrate import MigrationLockTimeout
from models.users.user import User


@click.command("migrate")
@with_appcontext
def migrate_command():
    """Apply pending schema migrations; the first time, also save the shop's settings from the environment.
    On PostgreSQL, hosts migrating at once take turns (the later ones find nothing to do)."""
    with connection():
        try:
            applied = apply_migrations()
        except MigrationLockTimeout as error:
            raise click.ClickException(str(error)) from None
    click.echo("\n".join(f"applied {name}" for name in applied) or "schema is up to date")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Only when the shop has no accounts yet.")
@with_appcontext
def demo_command(if_empty):
    """Apply migrations and load demo data (safe to run again)."""
    with connection():
        apply_migrations()
        if if_empty and User.select().exists():
            click.echo("The shop has accounts already; demo data not loaded.")
            return
        for line in load_demo_data():
            click.echo(line)


@click.command("copy-to-postgres")
@click.argument("target_url")
@with_appcontext
def copy_to_postgres_command(target_url):
    """Copy this SQLite shop into the empty PostgreSQL database TARGET_URL and check the copy."""
    with scheduler_stopped(), connection():
        try:
            report = copy_to_postgres(target_url, progress=click.echo)
        except CopyError as error:
            raise click.ClickException(str(error)) from error
    click.echo(
        f"Copied {sum(report.rows.values())} rows in {len(report.rows)} tables; the counts match and the "
        "ledger check passes on both sides. Point DATABASE_URL at the new database and restart the shop."
    )
