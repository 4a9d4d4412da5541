"""The funds ledger core: guarded debits, idempotency, append-only history and the ledger check."""

import datetime
import sqlite3

import pytest
from peewee import IntegrityError
from peewee import OperationalError

from jobs.ledger import nightly_ledger_check
from models.base import bind_database
from models.base import db
from models.funds.customer_accounts import account_for
from models.funds.customer_accounts import set_credit_limit
from models.funds.ledger import ADJUSTMENTS
from models.funds.ledger import check_ledger
from models.funds.ledger import Declined
from models.funds.ledger import Entry
from models.funds.ledger import IdempotencyConflict
from models.funds.ledger import Journal
from models.funds.ledger import LedgerAccount
from models.funds.ledger import LedgerCheckRun
from models.funds.ledger import LedgerError
from models.funds.ledger import Leg
from models.funds.ledger import PROVIDER_CLEARING
from models.funds.ledger import record_check
from models.funds.ledger import SALES
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.operations.migrate import apply_migrations
from models.operations.migrate import runner
from models.shop.settings import ShopSettings
from shop import create_app
from tests.conftest import app_config


def deposit(user, amount, key):
    return transfer(
        key,
        "top_up",
        [
            Leg(system_account(PROVIDER_CLEARING), -amount, "deposit"),
            Leg(account_for(user), amount, "deposit"),
        ],
    )


def deposit_at(user, amount, key, now):
    return transfer(
        key,
        "top_up",
        [
            Leg(system_account(PROVIDER_CLEARING), -amount, "deposit"),
            Leg(account_for(user), amount, "deposit"),
        ],
        now=now,
    )


def spend(user, amount, key):
    return transfer(
        key, "order", [Leg(account_for(user), -amount, "spend"), Leg(system_account(SALES), amount, "spend")]
    )


def test_deposit_and_spend_update_the_cached_balance(app, customer):
    deposit(customer, 5000, "d1")
    spend(customer, 1200, "s1")
    account = account_for(customer)
    assert account.balance == 3800
    assert [e.balance_after for e in Entry.select().where(Entry.account == account).order_by(Entry.id)] == [
        5000,
        3800,
    ]


def test_a_debit_beyond_spendable_is_declined_and_writes_nothing(app, customer):
    deposit(customer, 1000, "d1")
    with pytest.raises(Declined):
        spend(customer, 1001, "s1")
    assert account_for(customer).balance == 1000
    assert not Journal.select().where(Journal.idempotency_key == "s1").exists()


def test_credit_limit_lets_a_balance_go_below_zero_and_splits_funds_and_credit(app, customer):
    deposit(customer, 1000, "d1")
    set_credit_limit(customer, 2000)
    spend(customer, 2500, "s1")
    entry = Entry.select().where((Entry.account == account_for(customer)) & (Entry.amount < 0)).get()
    assert (entry.funds_part, entry.credit_part, entry.balance_after) == (1000, 1500, -1500)
    with pytest.raises(Declined):
        spend(customer, 501, "s2")
    spend(customer, 500, "s3")
    assert account_for(customer).balance == -2000


def test_lowering_the_limit_below_debt_only_blocks_new_spending(app, customer):
    set_credit_limit(customer, 3000)
    spend(customer, 2000, "s1")
    set_credit_limit(customer, 500)
    with pytest.raises(Declined):
        spend(customer, 1, "s2")
    assert check_ledger() == []


def test_replaying_a_key_returns_the_first_journal_and_moves_nothing(app, customer):
    first = deposit(customer, 700, "same-key")
    again = deposit(customer, 700, "same-key")
    assert again.id == first.id
    assert account_for(customer).balance == 700
    with pytest.raises(IdempotencyConflict):
        deposit(customer, 800, "same-key")


@pytest.mark.parametrize(
    "legs",
    [
        lambda u: [Leg(account_for(u), 100, "deposit")],
        lambda u: [Leg(account_for(u), 100, "deposit"), Leg(system_account(ADJUSTMENTS), -99, "adjustment")],
        lambda u: [
            Leg(account_for(u), 100, "nonsense"),
            Leg(system_account(ADJUSTMENTS), -100, "adjustment"),
        ],
        lambda u: [Leg(account_for(u), 1.5, "deposit"), Leg(system_account(ADJUSTMENTS), -1.5, "adjustment")],
    ],
)
def test_malformed_movements_are_refused(app, customer, legs):
    with pytest.raises(LedgerError):
        transfer("k", "adjustment", legs(customer))
    assert Journal.select().count() == 0


def test_journals_and_entries_are_append_only(app, customer):
    deposit(customer, 100, "d1")
    for statement in (
        'UPDATE "entry" SET amount = 1',
        'DELETE FROM "entry"',
        "UPDATE \"journal\" SET memo = 'x'",
        'DELETE FROM "journal"',
    ):
        with pytest.raises((IntegrityError, OperationalError), match="append-only"):
            db.execute_sql(statement)


@pytest.mark.sqlite_only(reason="reads SQLite's trigger list; the PostgreSQL template is migrated from zero")
def test_a_database_migrated_from_zero_has_the_triggers(tmp_path):
    path = tmp_path / "zero.sqlite3"
    bind_database(f"sqlite:///{path}")
    with db.connection_context():
        apply_migrations()
    raw = sqlite3.connect(path)
    triggers = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert {"journal_no_update", "journal_no_delete", "entry_no_update", "entry_no_delete"} <= triggers
    raw.execute(
        "INSERT INTO journal (idempotency_key, kind, memo, request_hash, created_at, local_date) VALUES ('k', 'x', '', '', '2026-01-01', '2026-01-01')"
    )
    for statement in ("UPDATE journal SET memo = 'changed'", "DELETE FROM journal"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute(statement)
    raw.close()


def test_the_check_finds_a_cached_balance_that_drifted(app, customer):
    deposit(customer, 100, "d1")
    LedgerAccount.update(balance=LedgerAccount.balance + 1).where(LedgerAccount.user == customer).execute()
    problems = check_ledger()
    assert any("caches 101 but its entries sum to 100" in problem for problem in problems)
    LedgerAccount.update(balance=100).where(LedgerAccount.user == customer).execute()  # leave it clean


def test_cli_ledger_check_exits_non_zero_with_a_report(database_path, tmp_path):
    app = create_app(app_config(database_path, tmp_path))
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["ledger", "check"])
    assert ok.exit_code == 0 and "passed" in ok.output
    raw = sqlite3.connect(database_path)
    raw.execute("UPDATE ledger_account SET balance = 5 WHERE code = 'sales'")
    raw.commit()
    failed = runner.invoke(args=["ledger", "check"])
    assert failed.exit_code == 1
    assert "account sales caches 5 but its entries sum to 0" in failed.output
    raw.execute("UPDATE ledger_account SET balance = 0 WHERE code = 'sales'")
    raw.commit()
    raw.close()


def test_nightly_check_runs_once_per_shop_day_after_three(app):
    london = datetime.UTC  # the test shop is in Europe/London; November is UTC+0
    nightly_ledger_check(datetime.datetime(2026, 11, 22, 2, 30, tzinfo=london))
    assert LedgerCheckRun.select().count() == 0
    nightly_ledger_check(datetime.datetime(2026, 11, 22, 3, 1, tzinfo=london))
    nightly_ledger_check(datetime.datetime(2026, 11, 22, 15, 0, tzinfo=london))
    assert LedgerCheckRun.select().count() == 1
    nightly_ledger_check(datetime.datetime(2026, 11, 23, 3, 5, tzinfo=london))
    assert LedgerCheckRun.select().count() == 2


def test_drift_shows_on_the_owners_dashboard(owner_client, customer):

    assert "Not run yet" in owner_client.get("/admin/").get_data(as_text=True)
    record_check()
    assert "All figures add up" in owner_client.get("/admin/").get_data(as_text=True)
    deposit(customer, 100, "d1")
    LedgerAccount.update(balance=99).where(LedgerAccount.user == customer).execute()
    record_check()
    html = owner_client.get("/admin/").get_data(as_text=True)
    assert "Drift found" in html and "caches 99" in html
    LedgerAccount.update(balance=100).where(LedgerAccount.user == customer).execute()


def test_the_returned_journal_is_the_stored_one(app, customer):
    journal = deposit(customer, 500, "d1")
    stored = Journal.get_by_id(journal.id)
    for field in ("idempotency_key", "kind", "memo", "request_hash", "created_at", "local_date"):
        assert getattr(journal, field) == getattr(stored, field)
    assert deposit(customer, 500, "d1").id == journal.id


def test_a_declined_key_is_free_to_use_again(app, customer):
    with pytest.raises(Declined):
        spend(customer, 300, "s1")
    deposit(customer, 1000, "d1")
    assert spend(customer, 300, "s1").id
    assert account_for(customer).balance == 700


def test_entries_carry_their_journals_shop_day_and_the_check_proves_it(app, customer):
    # 23:30 UTC on 30 June is half past midnight on 1 July in London (summer time).
    journal = deposit_at(customer, 100, "d1", datetime.datetime(2026, 6, 30, 23, 30))
    assert journal.local_date == datetime.date(2026, 7, 1)
    assert {entry.local_date for entry in Entry.select().where(Entry.journal == journal.id)} == {
        datetime.date(2026, 7, 1)
    }
    with db.atomic() as transaction:
        Entry.insert(
            journal=journal.id,
            account=system_account(SALES),
            amount=0,
            category="deposit",
            balance_after=0,
            created_at=journal.created_at,
            local_date=datetime.date(2026, 6, 30),
        ).execute()
        assert any("is not dated its journal's shop day" in problem for problem in check_ledger())
        transaction.rollback()


def test_the_shop_day_follows_a_time_zone_change_at_once(app, customer):

    noon = datetime.datetime(2026, 1, 1, 12, 0)
    assert deposit_at(customer, 100, "d1", noon).local_date == datetime.date(2026, 1, 1)
    ShopSettings.update(timezone="Pacific/Auckland").where(ShopSettings.id == 1).execute()
    assert deposit_at(customer, 100, "d2", noon).local_date == datetime.date(2026, 1, 2)  # UTC+13


@pytest.mark.sqlite_only(reason="writes the history with SQLite's own client between migrations")
def test_migration_0009_dates_existing_entries_and_keeps_them_append_only(tmp_path):

    path = tmp_path / "upgrade.sqlite3"
    bind_database(f"sqlite:///{path}")
    with db.connection_context():
        names = [migration.name for migration in runner().status()]
        runner().up(names[names.index("0009_ledger_read_indexes") - 1])
        db.execute_sql(
            "INSERT INTO journal (id, idempotency_key, kind, memo, request_hash, created_at, local_date)"
            " VALUES (1, 'k', 'top_up', '', '', '2026-01-01 23:30:00', '2026-01-02')"
        )
        for account, amount in (("sales", 100), ("provider_clearing", -100)):
            db.execute_sql(
                "INSERT INTO entry (journal_id, account_id, amount, category, funds_part, credit_part,"
                " balance_after, credit_limit_at, created_at) SELECT 1, id, ?, 'deposit', 0, 0, ?, 0,"
                " '2026-01-01 23:30:00' FROM ledger_account WHERE code = ?",
                (amount, amount, account),
            )
            db.execute_sql("UPDATE ledger_account SET balance = ? WHERE code = ?", (amount, account))
        runner().up()
        assert [row[0] for row in db.execute_sql("SELECT local_date FROM entry")] == ["2026-01-02"] * 2
        indexes = dict(db.execute_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index'").fetchall())
        assert {"entry_account_id_local_date_id", "entry_account_id_category_local_date_id"} <= set(indexes)
        assert "entry_account_id" not in indexes
        assert indexes["journal_corrects_id"].endswith('WHERE ("corrects_id" IS NOT NULL)')
        with pytest.raises(IntegrityError, match="append-only"):
            db.execute_sql("UPDATE entry SET local_date = '2026-01-01'")
        assert check_ledger() == []
