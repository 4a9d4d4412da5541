"""Races with real separate processes, each with its own connection to the test's database.

The workers come from a fork server (a fresh interpreter with the models
preloaded), so no connection of the test process crosses a fork and starting
them is quick. Each binds its own database handle (models.base.bind_database:
the project's pragmas and busy timeout), then a barrier releases them together.
"""

import multiprocessing
import traceback

import pytest
from peewee import OperationalError

from models.base import bind_database
from models.base import db
from models.funds.customer_accounts import account_for
from models.funds.customer_accounts import set_credit_limit
from models.funds.ledger import check_ledger
from models.funds.ledger import Declined
from models.funds.ledger import Entry
from models.funds.ledger import IdempotencyConflict
from models.funds.ledger import Journal
from models.funds.ledger import LedgerAccount
from models.funds.ledger import Leg
from models.funds.ledger import PROVIDER_CLEARING
from models.funds.ledger import SALES
from models.funds.ledger import system_account
from models.funds.ledger import transfer

PROCESSES = 24
SPENDS_EACH = 5
AMOUNT = 70

context = multiprocessing.get_context("forkserver")
context.set_forkserver_preload(["models.funds.ledger"])


def _worker(url, account_id, mode, number, barrier, results):
    """One separate process: connect, wait for the others, then move money; report what happened."""
    outcome = {"ok": 0, "declined": 0, "errors": [], "journals": []}
    try:
        bind_database(url)
        db.connect()
        account = LedgerAccount.get_by_id(account_id)
        sales = system_account(SALES)
        clearing = system_account(PROVIDER_CLEARING)
        barrier.wait(timeout=30)
        for attempt in range(SPENDS_EACH if mode == "spend" else 1):
            try:
                if mode == "spend":
                    legs = [Leg(account, -AMOUNT, "spend"), Leg(sales, AMOUNT, "spend")]
                    journal = transfer(f"race-spend-{number}-{attempt}", "order", legs)
                else:
                    legs = [Leg(clearing, -500, "deposit"), Leg(account, 500, "deposit")]
                    journal = transfer("race-same-key", "top_up", legs)
                outcome["ok"] += 1
                outcome["journals"].append(journal.id)
            except Declined:
                outcome["declined"] += 1
            except OperationalError as error:  # "database is locked" would land here
                outcome["errors"].append(f"OperationalError: {error}")
        db.close()
    except Exception:  # anything else: report it rather than die silently
        outcome["errors"].append(traceback.format_exc())
    results.put(outcome)


def _race(app, account_id, mode):
    """Run PROCESSES workers at once; returns their outcomes."""
    url = app.config["DATABASE_URL"]
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=_worker, args=(url, account_id, mode, number, barrier, results))
        for number in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    return outcomes


def test_many_processes_spending_from_one_account_never_overdraw_nor_lose_an_update(app, make_customer):
    customer = make_customer()
    account = account_for(customer)
    transfer(
        "race-start",
        "top_up",
        [Leg(system_account(PROVIDER_CLEARING), -3000, "deposit"), Leg(account, 3000, "deposit")],
    )
    set_credit_limit(customer, 2000)
    start = LedgerAccount.get_by_id(account.id).spendable  # 5000: room for 71 spends of 70, not 120
    attempts = PROCESSES * SPENDS_EACH
    assert start // AMOUNT < attempts  # so some must be declined

    outcomes = _race(app, account.id, "spend")

    assert [o["errors"] for o in outcomes if o["errors"]] == []  # no "database is locked", nothing else
    successes = sum(o["ok"] for o in outcomes)
    declines = sum(o["declined"] for o in outcomes)
    final = LedgerAccount.get_by_id(account.id)
    assert successes * AMOUNT == start - final.spendable  # no lost update
    assert final.balance >= -final.credit_limit  # no overdraft
    assert successes == start // AMOUNT  # nothing declined while there was room
    assert declines == attempts - successes
    assert final.spendable < AMOUNT
    debits = Entry.select().where((Entry.account == account.id) & (Entry.category == "spend"))
    assert debits.count() == successes
    assert sorted(e.balance_after for e in debits) == [3000 - AMOUNT * n for n in range(successes, 0, -1)]
    funds = sum(e.funds_part for e in debits)
    credit = sum(e.credit_part for e in debits)
    assert (funds, credit) == (3000, successes * AMOUNT - 3000)  # the positive balance, then credit
    assert check_ledger() == []


def test_many_processes_replaying_one_key_make_one_journal(app, make_customer):
    customer = make_customer()
    account = account_for(customer)

    outcomes = _race(app, account.id, "replay")

    assert [o["errors"] for o in outcomes if o["errors"]] == []
    assert sum(o["ok"] for o in outcomes) == PROCESSES
    assert len({journal for o in outcomes for journal in o["journals"]}) == 1
    assert Journal.select().where(Journal.idempotency_key == "race-same-key").count() == 1
    assert LedgerAccount.get_by_id(account.id).balance == 500
    assert check_ledger() == []


def test_a_request_that_loses_the_race_to_store_its_key_answers_like_a_replay(
    app, make_customer, monkeypatch
):
    """Where writers do not queue at BEGIN (PostgreSQL), two requests with one key can
    both miss the idempotency lookup; the later INSERT then hits the UNIQUE key. On
    SQLite BEGIN IMMEDIATE closes that window, so it is opened here by hiding the first
    journal from the lookup inside the transaction once."""
    customer = make_customer()
    account = account_for(customer)
    clearing = system_account(PROVIDER_CLEARING)
    first = transfer("lost-race", "top_up", [Leg(clearing, -500, "deposit"), Leg(account, 500, "deposit")])
    lookup = Journal.get_or_none
    misses = [1]

    def lookup_that_misses_once(*args, **kwargs):
        return None if misses and misses.pop() else lookup(*args, **kwargs)

    monkeypatch.setattr(Journal, "get_or_none", lookup_that_misses_once)
    again = transfer("lost-race", "top_up", [Leg(clearing, -500, "deposit"), Leg(account, 500, "deposit")])
    assert again.id == first.id
    misses.append(1)
    with pytest.raises(IdempotencyConflict):
        transfer("lost-race", "top_up", [Leg(clearing, -600, "deposit"), Leg(account, 600, "deposit")])
    monkeypatch.undo()
    assert LedgerAccount.get_by_id(account.id).balance == 500
    assert Journal.select().where(Journal.idempotency_key == "lost-race").count() == 1
