"""The funds ledger: every money movement in the shop, and nothing else moves money.

Double-entry and append-only, in integer minor units. A movement is a
journal whose entries sum to zero. A customer's balance is the sum of their
entries, cached on their ledger account and changed in the same transaction
by one guarded UPDATE: the check (balance may not fall below minus the
credit limit) and the write are a single statement, so nothing can overdraw
an account however many requests race. Every movement carries an
idempotency key stored UNIQUE with its journal: a replay returns the first
journal and moves nothing.
"""

import datetime
import functools
import hashlib
import json
import zoneinfo
from dataclasses import dataclass

from peewee import CharField
from peewee import DateField
from peewee import DateTimeField
from peewee import fn
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import IntegrityError
from peewee import JOIN
from peewee import TextField
from peewee import Value

from models.base import BaseModel
from models.base import db
from models.base import utcnow
from models.base import write_transaction
from models.shop.settings import load_settings
from models.shop.settings import ShopSettings
from models.users.user import User

# System accounts (created by migration 0004).
PROVIDER_CLEARING = "provider_clearing"  # money on its way from the payment provider
SALES = "sales"
FUNDS_ON_HOLD = "funds_on_hold"
PROMOTIONS = "promotions"  # bonuses and rewards the shop gives
REFUNDS = "refunds"
ADJUSTMENTS = "adjustments"

CATEGORIES = (
    "deposit",
    "bonus",
    "bonus_reversal",
    "spend",
    "hold",
    "capture",
    "release",
    "refund_in",
    "refund_out",
    "adjustment",
    "reward",
    "repayment",
)


class LedgerAccount(BaseModel):
    code = CharField(unique=True)
    user = ForeignKeyField(User, null=True, unique=True, on_delete="RESTRICT")
    balance = IntegerField(default=0)
    credit_limit = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "ledger_account"

    @property
    def is_customer(self):
        return self.user_id is not None

    @property
    def spendable(self):
        return self.balance + self.credit_limit


class Journal(BaseModel):
    idempotency_key = CharField(unique=True)
    kind = CharField()
    memo = TextField(default="")
    request_hash = CharField(default="")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    # Indexed only where set (migration 0009): nearly every journal corrects nothing.
    corrects = ForeignKeyField("self", null=True, on_delete="RESTRICT", backref="corrections", index=False)
    # Not indexed (migration 0017): journals are found by key or through their entries.
    created_at = DateTimeField(default=utcnow)
    local_date = DateField()


class Entry(BaseModel):
    journal = ForeignKeyField(Journal, on_delete="RESTRICT", index=True, backref="entries")
    account = ForeignKeyField(LedgerAccount, on_delete="RESTRICT", index=False)  # see Meta
    amount = IntegerField()  # positive: the account gains; negative: it pays
    category = CharField()
    funds_part = IntegerField(default=0)  # of a customer's debit: paid from positive balance
    credit_part = IntegerField(default=0)  # of a customer's debit: paid below zero (credit)
    balance_after = IntegerField()
    credit_limit_at = IntegerField(default=0)  # the limit the guard read, for the ledger check
    created_at = DateTimeField(default=utcnow)
    # The journal's shop day, copied so a customer's history pages and filters by day
    # along an index (migration 0009); the ledger check proves the copy matches.
    local_date = DateField(null=True)

    class Meta:
        indexes = (
            (("account", "id"), False),
            (("account", "local_date", "id"), False),
            (("account", "category", "local_date", "id"), False),
            # The reports' sums by category and shop day, read from the index alone (migration 0016).
            (("category", "local_date", "account", "amount", "credit_part"), False),
        )


class LedgerCheckRun(BaseModel):
    at = DateTimeField(default=utcnow, index=True)
    problems = TextField(default="[]")

    @property
    def problem_list(self):
        return json.loads(self.problems)


@dataclass(frozen=True)
class Leg:
    """One side of a movement: `amount` into (positive) or out of (negative) `account`."""

    account: LedgerAccount
    amount: int
    category: str


class LedgerError(Exception):
    """A movement that cannot happen; nothing was written."""


class Declined(LedgerError):
    """Not enough spendable money (balance plus credit limit)."""


class IdempotencyConflict(LedgerError):
    """The key was used before for a different movement."""


# Accounts -----------------------------------------------------------------


def system_account(code):
    return LedgerAccount.get(LedgerAccount.code == code)


def open_account(user, credit_limit_of):
    """Open the customer's ledger account (or return the one a racing request opened first).

    `credit_limit_of(user)` is the credit side's rule for the limit debits may use; it is read
    inside the transaction that opens the account, so no change to its inputs slips between.
    """
    try:
        with write_transaction():
            return LedgerAccount.create(
                code=f"customer:{user.id}", user=user, credit_limit=credit_limit_of(user)
            )
    except IntegrityError:
        return LedgerAccount.get(LedgerAccount.user == user)


def customer_account(user):
    """The customer's ledger account, or None before their first use of it."""
    return LedgerAccount.get_or_none(LedgerAccount.user == user)


# Movements ----------------------------------------------------------------


def transfer(idempotency_key, kind, legs, memo="", actor=None, corrects=None, now=None):
    """Record one movement atomically; returns its journal.

    Replaying the same key with the same movement returns the first journal
    and writes nothing; the same key for a different movement raises
    IdempotencyConflict. A customer debit beyond balance plus credit limit
    raises Declined. Either way nothing half-done is ever saved.
    """
    _check_movement(idempotency_key, legs)
    request_hash = _fingerprint(kind, legs, corrects)
    now = now or utcnow()
    with write_transaction():
        journal = {
            "idempotency_key": idempotency_key,
            "kind": kind,
            "memo": memo[:500],
            "request_hash": request_hash,
            "created_by": _id_of(actor),
            "corrects": _id_of(corrects),
            "created_at": now,
            "local_date": _shop_date(now),
        }
        # The UNIQUE key decides in the INSERT itself: no row back means the key is
        # taken (on PostgreSQL a racing holder of the key is waited for, not overtaken).
        inserted = _INSERT_JOURNAL.run(**journal).fetchone()
        if inserted is None:
            return _replayed(idempotency_key, request_hash)
        journal_id = inserted[0]
        # Debits first, in account order: a decline stops before anything else is touched.
        legs = sorted(legs, key=lambda leg: (leg.amount >= 0, leg.account.id))
        entries = [_post(leg) for leg in legs]
        _insert_entries(journal_id, entries, now, journal["local_date"])
    return Journal(id=journal_id, **journal)


def _check_movement(idempotency_key, legs):
    if not idempotency_key or len(idempotency_key) > 200:
        raise LedgerError("Every movement needs an idempotency key (at most 200 characters).")
    if len(legs) < 2 or sum(leg.amount for leg in legs) != 0:
        raise LedgerError("A movement's legs must balance to zero.")
    if any(leg.category not in CATEGORIES or not isinstance(leg.amount, int) for leg in legs):
        raise LedgerError("Unknown category or a non-integer amount.")


def _replayed(idempotency_key, request_hash):
    earlier = Journal.get(Journal.idempotency_key == idempotency_key)
    if earlier.request_hash != request_hash:
        raise IdempotencyConflict(f"The key {idempotency_key!r} was used for a different movement.")
    return earlier


def _post(leg):
    """Change the account's cached balance by the leg; returns the entry to record."""
    account = leg.account
    guarded = account.is_customer and leg.amount < 0
    # The guard and the write in one statement: no check-then-write gap.
    statement = _GUARDED_DEBIT if guarded else _UNGUARDED_POST
    row = statement.run(account=account.id, amount=leg.amount).fetchone()
    if row is None:
        if guarded:
            raise Declined("Not enough funds or credit for this payment.")
        raise LedgerError(f"No ledger account {account.id}.")
    balance_after, credit_limit = row
    funds_part = credit_part = 0
    if guarded:
        before = balance_after - leg.amount
        funds_part = max(0, min(-leg.amount, before))
        credit_part = -leg.amount - funds_part
    return {
        "account": account.id,
        "amount": leg.amount,
        "category": leg.category,
        "funds_part": funds_part,
        "credit_part": credit_part,
        "balance_after": balance_after,
        "credit_limit_at": credit_limit,
    }


def _insert_entries(journal_id, entries, now, local_date):
    """All of a movement's entries in one INSERT."""
    values = {}
    for number, entry in enumerate(entries):
        entry = {**entry, "journal": journal_id, "created_at": now, "local_date": local_date}
        values.update({f"{name}_{number}": value for name, value in entry.items()})
    _insert_entries_statement(len(entries)).run(**values)


def _fingerprint(kind, legs, corrects):
    payload = [
        kind,
        sorted((leg.account.id, leg.amount, leg.category) for leg in legs),
        _id_of(corrects),
    ]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:32]


def _shop_date(now):
    """`now`'s day in the shop's time zone, as the settings say inside this transaction."""
    row = _SHOP_TIME_ZONE.run().fetchone()
    zone = zoneinfo.ZoneInfo(row[0]) if row else load_settings().tz  # ZoneInfo caches by name
    return now.replace(tzinfo=datetime.UTC).astimezone(zone).date()


def _id_of(row):
    return getattr(row, "id", row)


# The statements of a movement ---------------------------------------------


class _Prepared:
    """A statement of the ledger's hot path, its SQL generated by Peewee once.

    Generating SQL costs Peewee several times what SQLite needs to run a small
    statement, and every movement runs the same few statements. `build(slot)`
    returns the Peewee query with `slot(name)` wherever a value goes; the SQL
    and its parameters are kept per database class (SQLite and PostgreSQL
    differ), so `run(**values)` only puts the values in and executes. Values
    are given as stored: ids for foreign keys, ints, strings, dates.
    """

    def __init__(self, build):
        self._build = build
        self._compiled = {}

    def run(self, **values):
        database = db.obj
        compiled = self._compiled.get(type(database))
        if compiled is None:
            compiled = self._compiled[type(database)] = self._build(_slot).sql()
        sql, params = compiled
        return database.execute_sql(
            sql, [values[param.name] if isinstance(param, _Slot) else param for param in params]
        )


class _Slot:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


def _slot(name):
    return Value(_Slot(name), converter=False)  # no converter: Peewee passes it through as is


_SHOP_TIME_ZONE = _Prepared(
    lambda slot: ShopSettings.select(ShopSettings.timezone).where(ShopSettings.id == 1)
)

_INSERT_JOURNAL = _Prepared(
    lambda slot: (
        Journal.insert(
            {
                getattr(Journal, name): slot(name)
                for name in (
                    "idempotency_key",
                    "kind",
                    "memo",
                    "request_hash",
                    "created_by",
                    "corrects",
                    "created_at",
                    "local_date",
                )
            }
        )
        .on_conflict(conflict_target=[Journal.idempotency_key], action="NOTHING")
        .returning(Journal.id)
    )
)

_GUARDED_DEBIT = _Prepared(
    lambda slot: (
        LedgerAccount.update(balance=LedgerAccount.balance + slot("amount"))
        .where(
            (LedgerAccount.id == slot("account"))
            & (LedgerAccount.balance + slot("amount") + LedgerAccount.credit_limit >= 0)
        )
        .returning(LedgerAccount.balance, LedgerAccount.credit_limit)
    )
)

_UNGUARDED_POST = _Prepared(
    lambda slot: (
        LedgerAccount.update(balance=LedgerAccount.balance + slot("amount"))
        .where(LedgerAccount.id == slot("account"))
        .returning(LedgerAccount.balance, LedgerAccount.credit_limit)
    )
)

_ENTRY_COLUMNS = (
    "journal",
    "account",
    "amount",
    "category",
    "funds_part",
    "credit_part",
    "balance_after",
    "credit_limit_at",
    "created_at",
    "local_date",
)


@functools.cache
def _insert_entries_statement(count):
    return _Prepared(
        lambda slot: Entry.insert_many(
            [
                {getattr(Entry, name): slot(f"{name}_{number}") for name in _ENTRY_COLUMNS}
                for number in range(count)
            ]
        )
    )


# Reading ------------------------------------------------------------------


def money_has_moved():
    """Once any money has moved, the shop's currency is locked."""
    return Entry.select().exists()


# The ledger check -----------------------------------------------------------


def check_ledger(database=None):
    """Every invariant of the ledger; returns a list of problems (empty when all hold).

    `database` checks another database than the shop's (a backup) with the same queries.
    """

    def on(query):
        return query.bind(database) if database is not None else query

    problems = []
    unbalanced = on(
        Entry.select(Entry.journal, fn.SUM(Entry.amount).alias("total"))
        .group_by(Entry.journal)
        .having(fn.SUM(Entry.amount) != 0)
    )
    problems += [f"journal {row.journal_id} sums to {row.total}, not 0" for row in unbalanced]
    total = on(Entry.select(fn.COALESCE(fn.SUM(Entry.amount), 0))).scalar()
    if total != 0:
        problems.append(f"all entries sum to {total}, not 0")
    sums = dict(on(Entry.select(Entry.account, fn.SUM(Entry.amount)).group_by(Entry.account).tuples()))
    for account in on(LedgerAccount.select()):
        expected = sums.get(account.id, 0)
        if account.balance != expected:
            problems.append(
                f"account {account.code} caches {account.balance} but its entries sum to {expected}"
            )
    # A limit lowered below existing debt is allowed, so the check is per debit:
    # no customer debit ever took a balance below minus the limit it read.
    overdrawn = on(
        Entry.select(Entry.id, Entry.account)
        .join(LedgerAccount)
        .where(
            LedgerAccount.user.is_null(False)
            & (Entry.amount < 0)
            & (Entry.balance_after + Entry.credit_limit_at < 0)
        )
    )
    problems += [f"entry {row.id} took account {row.account_id} below its credit limit" for row in overdrawn]
    misdated = on(
        Entry.select(Entry.id)
        .join(Journal)
        .where(Entry.local_date.is_null() | (Entry.local_date != Journal.local_date))
    )
    problems += [f"entry {row.id} is not dated its journal's shop day" for row in misdated]
    empty = on(
        Journal.select()
        .join(Entry, on=(Entry.journal == Journal.id), join_type=JOIN.LEFT_OUTER)
        .where(Entry.id.is_null())
    )
    problems += [f"journal {journal.id} has no entries" for journal in empty]
    return problems


def record_check(now=None):
    """Run the check and keep its result for the owner's dashboard; returns the problems."""
    problems = check_ledger()
    with write_transaction():
        LedgerCheckRun.create(at=now or utcnow(), problems=json.dumps(problems))
    return problems


def latest_check():
    return LedgerCheckRun.select().order_by(LedgerCheckRun.at.desc()).first()
