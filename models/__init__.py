"""Peewee models and the domain operations on them, one package per domain.

Views and jobs call functions from these packages; business rules live here, once. Each
package's __init__ says what it owns and what the rest of the code calls. Listed from the
top down: a package builds only on those below it (pyproject.toml's import-linter contracts
check this in `make lint`).

    operations   migrations, backups, the move to PostgreSQL, demo data, the health report
    reactions.py the only reactions that go up the layers (credit limits follow settings, groups)
    reports      the owner's reports and dashboard
    reminders    payment reminders: settings, windows, the plan, batches, messages
    accounts     registration, sign-in codes, passwords and emails, profile, addresses, deletion
    marketplace  orders imported from marketplaces        refunds  of top-ups and of orders
    orders       placing, paying, cancelling, fulfilling orders; affiliate rewards
    storefront   the catalogue and carts
    funds        the ledger, top-ups, credit, adjustments, signup bonus, statements, history
    groups       customer groups, what they allow, applications, referral links
    shop         settings, audit list, outbox and mail, throttling, heartbeats
    users        the User row, passwords, emailed tokens, the security log
    base.py, dialect.py, values.py   the database, SQL that differs by engine, value checks
    signing.py   the secret keys (SECRET_KEY and its fallbacks) and the signers made from them
"""

# User's group and default addresses are foreign keys to tables defined above users (Peewee's
# DeferredForeignKey), so the package loads those two models: whatever module of models/ a
# script, a job or a worker process imports first, User is whole.
from models.accounts import addresses  # noqa: E402, F401
from models.groups import group  # noqa: E402, F401
