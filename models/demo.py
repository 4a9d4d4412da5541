"""Demo data for `flask --app shop demo` and `make run`. Running it twice changes nothing."""

from models.settings import load_settings
from models.user import create_user
from models.user import CUSTOMER
from models.user import OWNER
from models.user import STAFF
from models.user import User

DEMO_PASSWORD = "demo-password"  # noqa: S105 - the published demo password

DEMO_PEOPLE = [
    ("owner@demo.shop", OWNER, "Olivia", "Owner"),
    ("staff@demo.shop", STAFF, "Sam", "Staff"),
    ("alice@demo.shop", CUSTOMER, "Alice", "Anderson"),
    ("bob@demo.shop", CUSTOMER, "Bob", "Brown"),
    ("carol@demo.shop", CUSTOMER, "Carol", "Clarke"),
]


def load_demo_data():
    """Create whatever demo data is missing; returns lines describing it."""
    load_settings()
    lines = [f"Demo accounts (password: {DEMO_PASSWORD}):"]
    for email, role, first_name, last_name in DEMO_PEOPLE:
        if User.by_email(email) is None:
            create_user(email, DEMO_PASSWORD, role=role, first_name=first_name, last_name=last_name)
        lines.append(f"  {role:<8} {email}")
    return lines
