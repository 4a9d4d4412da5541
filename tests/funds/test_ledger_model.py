"""The ledger against a plain-Python model: Hypothesis drives every public money operation.

On SQLite each example gets its own copy of the migrated template database,
so the full `check_ledger()` after every step stays cheap. Elsewhere the
examples share the test's database; either way each example has three fresh
customers and its own idempotency-key prefix, and the model tracks how far
each system account moved since the example began. After every step every
invariant is checked against the model and with `check_ledger()`. Writes go
only through models.funds.ledger.
"""

import itertools
import shutil
import uuid

import pytest
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant
from hypothesis.stateful import precondition
from hypothesis.stateful import rule
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import run_state_machine_as_test
from peewee import fn
from peewee import JOIN

from models.accounts.administration import create_user
from models.base import bind_database
from models.base import db
from models.base import is_sqlite
from models.funds.customer_accounts import account_for
from models.funds.customer_accounts import set_credit_limit
from models.funds.ledger import ADJUSTMENTS
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

CUSTOMERS = 3
SYSTEM_CODES = (PROVIDER_CLEARING, SALES, ADJUSTMENTS)
_emails = itertools.count(1)

amounts = st.one_of(st.integers(1, 100), st.integers(1, 20_000))
customers = st.integers(0, CUSTOMERS - 1)


class LedgerMachine(RuleBasedStateMachine):
    template = None  # a migrated SQLite file copied for each example; None: use the bound database
    workdir = None

    def __init__(self):
        super().__init__()
        self.shared_database = self.own_path = None
        if self.template is not None:
            self.shared_database = db.obj
            self.own_path = self.workdir / f"example-{uuid.uuid4().hex}.sqlite3"
            shutil.copy(self.template, self.own_path)
            bind_database(f"sqlite:///{self.own_path}")
            db.connect()
        self.prefix = uuid.uuid4().hex[:12]
        self.keys = itertools.count(1)
        try:
            self.users = [
                create_user(f"model{next(_emails)}-{self.prefix}@example.com", password=None)
                for _ in range(CUSTOMERS)
            ]
            self.accounts = [account_for(user) for user in self.users]
            self.system = {code: system_account(code) for code in SYSTEM_CODES}
        except BaseException:
            self.teardown()  # Hypothesis only tears down a machine that was built
            raise
        # The model.
        self.balance = [0] * CUSTOMERS
        self.limit = [account.credit_limit for account in self.accounts]  # the group's default
        self.deposited = [0] * CUSTOMERS  # cash in minus cash refunded out: the refund cap
        self.spent = [0] * CUSTOMERS  # spends not yet refunded back: the refund-in cap
        self.system_start = {code: account.balance for code, account in self.system.items()}
        self.system_delta = dict.fromkeys(SYSTEM_CODES, 0)
        self.journals = {}  # key -> (journal id, kind, legs as (account id, amount, category))
        self.entry_count = 0

    def teardown(self):
        if self.shared_database is not None:
            db.close()
            db.initialize(self.shared_database)
            for suffix in ("", "-wal", "-shm"):
                self.own_path.with_name(self.own_path.name + suffix).unlink(missing_ok=True)

    # Helpers ---------------------------------------------------------------

    def spendable(self, i):
        return self.balance[i] + self.limit[i]

    def move(self, kind, legs, debtor=None):
        """Run one transfer and update the model; `debtor` is the customer index paying, if any.

        Returns True when it went through, False when the ledger declined it.
        A decline must happen exactly when the model says the debtor cannot pay.
        """
        key = f"{self.prefix}-{next(self.keys)}"
        ledger_legs = [Leg(account, amount, category) for account, amount, category in legs]
        debit = None if debtor is None else -next(a for acc, a, _ in legs if acc == self.accounts[debtor])
        should_decline = debit is not None and self.spendable(debtor) < debit
        counts_before = self.counts()
        try:
            journal = transfer(key, kind, ledger_legs)
        except Declined:
            assert should_decline, f"declined although spendable {self.spendable(debtor)} >= {debit}"
            assert self.counts() == counts_before, "a declined movement wrote something"
            return False
        assert not should_decline, f"went through although spendable {self.spendable(debtor)} < {debit}"
        self.journals[key] = (journal.id, kind, [(acc.id, a, c) for acc, a, c in legs])
        self.entry_count += len(legs)
        if debtor is not None:
            before = self.balance[debtor]
            funds = min(debit, max(before, 0))
            entry = (
                Entry.select(Entry.amount, Entry.funds_part, Entry.credit_part)
                .select_extend(Entry.balance_after, Entry.credit_limit_at)
                .where((Entry.journal == journal.id) & (Entry.account == self.accounts[debtor]))
                .tuples()
            )
            assert list(entry) == [(-debit, funds, debit - funds, before - debit, self.limit[debtor])]
        for account, amount, _ in legs:
            if account.code in self.system_delta:
                self.system_delta[account.code] += amount
            else:
                self.balance[self.accounts.index(account)] += amount
        return True

    def counts(self):
        return (Journal.select().count(), Entry.select().count())

    # Rules -----------------------------------------------------------------

    @rule(i=customers, amount=amounts)
    def top_up(self, i, amount):
        self.move(
            "top_up",
            [
                (self.system[PROVIDER_CLEARING], -amount, "deposit"),
                (self.accounts[i], amount, "deposit"),
            ],
        )
        self.deposited[i] += amount

    @rule(i=customers, amount=st.one_of(amounts, st.integers(1, 40_000)))
    def spend(self, i, amount):
        if self.move(
            "order",
            [(self.accounts[i], -amount, "spend"), (self.system[SALES], amount, "spend")],
            debtor=i,
        ):
            self.spent[i] += amount

    @precondition(lambda self: any(self.spent))
    @rule(data=st.data())
    def refund_purchase(self, data):
        """Sales gives back part of a purchase (refund_in)."""
        i = data.draw(st.sampled_from([i for i in range(CUSTOMERS) if self.spent[i] > 0]))
        amount = data.draw(st.integers(1, self.spent[i]))
        self.move(
            "refund",
            [(self.system[SALES], -amount, "refund_in"), (self.accounts[i], amount, "refund_in")],
        )
        self.spent[i] -= amount

    def refundable(self, i):
        return max(0, min(self.balance[i], self.deposited[i]))

    @precondition(lambda self: any(self.refundable(i) for i in range(CUSTOMERS)))
    @rule(data=st.data())
    def refund_deposit(self, data):
        """Unspent deposited money goes back to the card (refund_out), capped by the model."""
        i = data.draw(st.sampled_from([i for i in range(CUSTOMERS) if self.refundable(i) > 0]))
        amount = data.draw(st.integers(1, self.refundable(i)))
        went_through = self.move(
            "refund_to_card",
            [
                (self.accounts[i], -amount, "refund_out"),
                (self.system[PROVIDER_CLEARING], amount, "refund_out"),
            ],
            debtor=i,
        )
        assert went_through  # within the balance, so never declined
        self.deposited[i] -= amount

    @rule(i=customers, amount=amounts, up=st.booleans())
    def adjust(self, i, amount, up):
        if up:
            legs = [
                (self.system[ADJUSTMENTS], -amount, "adjustment"),
                (self.accounts[i], amount, "adjustment"),
            ]
            self.move("adjustment", legs)
        else:
            legs = [
                (self.accounts[i], -amount, "adjustment"),
                (self.system[ADJUSTMENTS], amount, "adjustment"),
            ]
            self.move("adjustment", legs, debtor=i)

    @rule(i=customers, data=st.data())
    def change_credit_limit(self, i, data):
        debt = max(0, -self.balance[i])
        # Sometimes below the current debt: that only blocks new spending.
        limit = data.draw(st.one_of(st.integers(0, 30_000), st.integers(0, debt)))
        set_credit_limit(self.users[i], limit)
        self.limit[i] = limit

    @precondition(lambda self: self.journals)
    @rule(data=st.data())
    def replay_same_key(self, data):
        key = data.draw(st.sampled_from(sorted(self.journals)))
        journal_id, kind, legs = self.journals[key]
        before = (self.counts(), self.balances())
        again = transfer(key, kind, [Leg(LedgerAccount.get_by_id(a), amount, c) for a, amount, c in legs])
        assert again.id == journal_id
        assert (self.counts(), self.balances()) == before

    @precondition(lambda self: self.journals)
    @rule(data=st.data(), change=st.sampled_from(["amount", "kind", "category"]))
    def replay_key_for_another_movement(self, data, change):
        key = data.draw(st.sampled_from(sorted(self.journals)))
        _, kind, legs = self.journals[key]
        if change == "amount":
            legs = [(a, amount + (1 if amount > 0 else -1), c) for a, amount, c in legs]
        elif change == "kind":
            kind = kind + "-other"
        else:
            legs = [(a, amount, "reward" if c != "reward" else "bonus") for a, amount, c in legs]
        before = (self.counts(), self.balances())
        with pytest.raises(IdempotencyConflict):
            transfer(key, kind, [Leg(LedgerAccount.get_by_id(a), amount, c) for a, amount, c in legs])
        assert (self.counts(), self.balances()) == before

    # Invariants, after every step ---------------------------------------------

    def balances(self):
        return {row[0]: row[1] for row in self.account_rows()}

    def account_rows(self):
        """(id, cached balance, credit limit, sum of entries) for this example's accounts, in one query."""
        entries = Entry.alias()
        total = entries.select(fn.COALESCE(fn.SUM(entries.amount), 0)).where(
            entries.account == LedgerAccount.id
        )
        ids = [a.id for a in self.accounts] + [a.id for a in self.system.values()]
        return list(
            LedgerAccount.select(LedgerAccount.id, LedgerAccount.balance, LedgerAccount.credit_limit, total)
            .where(LedgerAccount.id.in_(ids))
            .tuples()
        )

    @invariant()
    def every_balance_matches_the_model_and_its_entries(self):
        rows = {row[0]: row[1:] for row in self.account_rows()}
        for i, account in enumerate(self.accounts):
            assert rows[account.id] == (self.balance[i], self.limit[i], self.balance[i]), f"customer {i}"
        for code, account in self.system.items():
            balance, _, total = rows[account.id]
            assert balance == total, code
            assert balance - self.system_start[code] == self.system_delta[code], code

    @invariant()
    def this_examples_journals_are_whole_and_balanced(self):
        rows = list(
            Journal.select(Journal.id, fn.COALESCE(fn.SUM(Entry.amount), 0), fn.COUNT(Entry.id))
            .join(Entry, JOIN.LEFT_OUTER)
            .where(Journal.idempotency_key.startswith(self.prefix + "-"))
            .group_by(Journal.id)
            .tuples()
        )
        assert sorted(row[0] for row in rows) == sorted(
            journal_id for journal_id, _, _ in self.journals.values()
        )
        assert all(total == 0 for _, total, _ in rows)
        assert sum(count for _, _, count in rows) == self.entry_count

    @invariant()
    def everything_sums_to_zero_and_the_check_passes(self):
        assert Entry.select(fn.COALESCE(fn.SUM(Entry.amount), 0)).scalar() == 0
        assert sum(self.balance) + sum(self.system_delta.values()) == 0
        assert check_ledger() == []


def test_the_ledger_behaves_like_its_model(app, template_database, tmp_path):
    machine = type(
        "LedgerMachineOnCopies",
        (LedgerMachine,),
        {"template": template_database if is_sqlite() else None, "workdir": tmp_path},
    )
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=60,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
