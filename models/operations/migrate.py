"""Apply and inspect the numbered schema migrations under migrations/."""

from pathlib import Path

from playhouse.migrations import Runner

from models.base import db

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def runner():
    return Runner(db.obj, str(MIGRATIONS_DIR))


def apply_migrations():
    """Apply every pending migration; returns the names applied."""
    return runner().up()


def pending_migrations():
    return [m.name for m in runner().status() if m.path and not m.applied]
