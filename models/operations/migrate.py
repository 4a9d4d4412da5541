"""Apply and inspect the numbered schema migrations under migrations/."""

from pathlib import Path

from playhouse.migrations import Runner

from models.base import db
from models.shop.settings import seed_settings

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def runner():
    return Runner(db.obj, str(MIGRATIONS_DIR))


def apply_migrations(environ=None):
    """Apply every pending migration, then, on the shop's first run, save its settings from the
    environment (`environ`, default os.environ); returns the names applied.

    This is where the environment seeds the settings (`flask migrate`, run before the web
    workers start, and `flask demo`): explicitly, once, never as a side effect of a read.
    """
    applied = runner().up()
    seed_settings(environ)
    return applied


def pending_migrations():
    return [m.name for m in runner().status() if m.path and not m.applied]
