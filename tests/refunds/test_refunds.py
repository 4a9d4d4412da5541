"""The owner refunds deposited funds to the card of a top-up, through the payment provider.

Money moves once however often the form is sent, never beyond the customer's
unspent deposited money (bonus money is not cash), the top-up's bonus is taken
back in proportion, a refusal puts the money back through a correcting journal,
and an unknown outcome stays pending until the job gets an answer.
"""

import datetime
import re
import secrets
from dataclasses import replace
from decimal import Decimal

import pytest
from babel.numbers import format_currency
from babel.numbers import get_currency_precision

from jobs.funds import retry_pending_refunds
from models.funds.adjustments import adjust
from models.funds.customer_accounts import account_for
from models.funds.customer_accounts import balance_of
from models.funds.customer_accounts import set_credit_limit
from models.funds.ledger import Entry
from models.funds.ledger import Journal
from models.funds.ledger import PROMOTIONS
from models.funds.ledger import PROVIDER_CLEARING
from models.funds.ledger import system_account
from models.funds.signup_bonus import credit_signup_bonus
from models.funds.top_ups import complete_top_up
from models.funds.top_ups import start_top_up
from models.funds.top_ups import TopUp
from models.refunds import top_ups as refunds
from models.refunds.top_ups import Refund
from models.refunds.top_ups import refund_summary
from models.refunds.top_ups import refund_to_card
from models.refunds.top_ups import RefundError
from models.refunds.top_ups import round_half_up
from models.shop.audit import AuditEntry
from models.shop.outbox import OutboxMessage
from models.shop.settings import load_settings
from models.shop.settings import ShopSettings
from models.users.user import CUSTOMER
from payments import sandbox
from payments.sandbox import SandboxPayment
from payments.sandbox import SandboxProvider
from payments.sandbox import SandboxRefund
from tests.conftest import post_form
from tests.conftest import sign_in


@pytest.fixture
def paid(app):
    """paid(customer, amount, bonus=0): a top-up approved at the sandbox and credited."""

    def make(customer, amount, bonus=0):
        with app.test_request_context():
            top_up = start_top_up(customer, amount, secrets.token_urlsafe(18))
        payment = SandboxPayment.get(SandboxPayment.public_id == top_up.provider_payment_id)
        sandbox.choose(payment, "approve")
        TopUp.update(bonus=bonus).where(TopUp.id == top_up.id).execute()
        return complete_top_up(top_up)

    return make


@pytest.fixture
def alice(make_customer):
    return make_customer(first_name="Alice", email="alice@example.com")


def money(minor):
    """An amount as the shop shows it (its currency and locale)."""
    settings = load_settings()
    amount = Decimal(minor).scaleb(-get_currency_precision(settings.currency))
    return format_currency(amount, settings.currency, locale=settings.locale)


def page_of(customer):
    return f"/admin/funds/customers/{customer.id}"


def refund_url(customer):
    return f"/admin/funds/customers/{customer.id}/refund"


def send(client, customer, top_up, amount, key=None, note="", headers=None):
    data = {
        "refund-top_up": str(top_up.id if hasattr(top_up, "id") else top_up),
        "refund-amount": amount,
        "refund-note": note,
        "refund-idempotency_key": key or secrets.token_urlsafe(18),
    }
    return post_form(client, refund_url(customer), data, page=page_of(customer), headers=headers)


def html(response):
    return response.get_data(as_text=True)


def snapshot():
    """Everything that would change if money moved."""
    return (
        Journal.select().count(),
        Entry.select().count(),
        Refund.select().count(),
        SandboxRefund.select().count(),
        OutboxMessage.select().where(OutboxMessage.kind == "funds_refunded").count(),
    )


def sandbox_payment(top_up):
    return SandboxPayment.get(SandboxPayment.public_id == top_up.provider_payment_id)


# The page -----------------------------------------------------------------------------


def test_owner_page_shows_refundable_total_and_per_top_up(owner_client, owner, alice, paid):
    older = paid(alice, 3000)
    newer = paid(alice, 5000, bonus=500)
    adjust(alice, -1000, "correction", "", "", owner, "spent-some")  # balance 85.00 - 10.00

    body = html(owner_client.get(page_of(alice)))

    assert "Refund to card" in body
    # Balance 75.00 minus the 5.00 bonus still held: 70.00 of the 80.00 paid in can go back.
    assert f"Can go back to the customer's cards now: <strong>{money(7000)}</strong>" in body
    assert f"Top-up {older.id}," in body and f"Top-up {newer.id}," in body
    assert re.search(
        rf'<option value="{newer.id}">Top-up {newer.id} of [^<]*: up to {re.escape(money(5000))}</option>',
        body,
    )
    assert re.search(
        rf'<option value="{older.id}">Top-up {older.id} of [^<]*: up to {re.escape(money(3000))}</option>',
        body,
    )
    assert 'id="refund-form"' in body and 'hx-post="/admin/funds/customers/' in body


def test_nothing_refundable_shows_no_form(owner_client, alice):
    body = html(owner_client.get(page_of(alice)))
    assert "no paid top-ups" in body and 'id="refund-form"' not in body


def test_summary_never_counts_bonus_as_cash(app, owner, alice, paid):
    paid(alice, 4000, bonus=1000)
    adjust(alice, -3500, "correction", "", "", owner, "spent")  # 5000 - 3500 = 1500, of which 1000 is bonus
    summary = refund_summary(alice)
    assert (summary.balance, summary.gifts_held, summary.unrefunded_deposits) == (1500, 1000, 4000)
    assert summary.refundable == 500


# Refunding once --------------------------------------------------------------------------


def test_refund_within_the_cap_moves_money_exactly_once(owner_client, owner, alice, paid):
    top_up = paid(alice, 5000)
    key = secrets.token_urlsafe(18)

    response = send(owner_client, alice, top_up, "20.00", key=key, note="Customer moved abroad")

    assert response.status_code == 303
    assert response.headers["Location"] == page_of(alice)
    refund = Refund.get()
    assert (refund.state, refund.amount, refund.bonus_reversal) == ("succeeded", 2000, 0)
    assert refund.top_up_id == top_up.id
    assert refund.created_by_id == owner.id and refund.note == "Customer moved abroad"
    assert balance_of(alice) == 3000
    assert [(r.amount, r.idempotency_key) for r in SandboxRefund.select()] == [(2000, f"refund:{refund.id}")]
    assert sandbox_payment(top_up).refunded == 2000
    journal = Journal.get(Journal.idempotency_key == f"refund:{refund.id}")
    assert sorted((e.account.code, e.amount, e.category) for e in journal.entries) == sorted(
        [(f"customer:{alice.id}", -2000, "refund_out"), (PROVIDER_CLEARING, 2000, "refund_out")]
    )
    assert AuditEntry.select().where(AuditEntry.action == "refund_started").count() == 1
    shown = html(owner_client.get(page_of(alice)))
    assert f"Refunded {money(2000)} to the card of top-up" in shown and "Paid" in shown
    before = snapshot()

    # A double click, a retried request, the back button and send again: the same key.
    again = send(owner_client, alice, top_up, "20.00", key=key, note="Customer moved abroad")

    assert again.status_code == 303
    assert snapshot() == before
    assert balance_of(alice) == 3000
    assert f"Refunded {money(2000)}" in html(owner_client.get(page_of(alice)))


def test_the_customer_is_emailed_and_sees_the_refund_in_their_history(owner_client, alice, paid, app):
    top_up = paid(alice, 2000, bonus=101)
    assert send(owner_client, alice, top_up, "10").status_code == 303

    message = OutboxMessage.get(OutboxMessage.kind == "funds_refunded")
    assert message.to_address == alice.email
    assert f"We refunded {money(1000)} to your card" in message.text_body
    assert f"we took back {money(51)} of it" in message.text_body

    customer_browser = app.test_client()
    sign_in(customer_browser, alice)
    history = html(customer_browser.get("/account/funds/history"))
    assert "Refund paid out" in history and "Bonus taken back" in history
    assert money(-1000) in history and money(-51) in history


def test_a_key_used_for_another_refund_is_refused_with_a_fresh_key(owner_client, alice, paid):
    top_up = paid(alice, 5000)
    key = secrets.token_urlsafe(18)
    send(owner_client, alice, top_up, "10", key=key)
    before = snapshot()

    response = send(owner_client, alice, top_up, "15", key=key)

    assert response.status_code == 422
    assert "already used for a different refund" in html(response)
    assert f'value="{key}"' not in html(response)
    assert snapshot() == before and balance_of(alice) == 4000


# Caps and bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an amount"),
        ("0", "above zero"),
        ("0.00", "above zero"),
        ("-5", "using digits"),
        ("NaN", "using digits"),
        ("inf", "using digits"),
        ("1e3", "using digits"),
        ("10.001", "at most 2 decimals"),
        ("1,000.00", "using digits"),
        ("9999999999", "using digits"),
    ],
)
def test_bad_amounts_are_refused_with_422_keeping_what_was_typed(owner_client, alice, paid, typed, message):
    top_up = paid(alice, 5000)
    before = snapshot()

    response = send(owner_client, alice, top_up, typed, note="typed note")

    assert response.status_code == 422
    body = html(response)
    assert message in body
    assert 'href="#refund-amount"' in body and 'aria-invalid="true"' in body
    assert f'value="{typed}"' in body or typed == ""
    assert f'<option selected value="{top_up.id}">' in body
    assert "typed note</textarea>" in body
    assert snapshot() == before and balance_of(alice) == 5000


def test_no_top_up_chosen_is_422(owner_client, alice, paid):
    paid(alice, 5000)
    paid(alice, 2000)
    before = snapshot()
    response = send(owner_client, alice, "", "10")
    assert response.status_code == 422
    assert "Choose the top-up" in html(response) and 'value="10"' in html(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("bonus", "spent", "typed", "message"),
    [
        (0, 0, "50.01", "At most {50.00} of top-up"),  # more than the payment
        (500, 0, "55.00", "At most {50.00} of top-up"),  # the bonus is not cash
        (500, 1000, "45.00", "At most {40.00} can go back to the card now"),  # spent money is gone
        (500, 5000, "0.01", "Nothing can go back to the card now"),  # only bonus money left
    ],
)
def test_beyond_the_cap_is_422_and_nothing_moves(
    owner_client, owner, alice, paid, bonus, spent, typed, message
):
    top_up = paid(alice, 5000, bonus=bonus)
    if spent:
        adjust(alice, -spent, "correction", "", "", owner, "spent")
    before, balance = snapshot(), balance_of(alice)

    response = send(owner_client, alice, top_up, typed)

    assert response.status_code == 422
    message = re.sub(r"\{([0-9.]+)\}", lambda m: money(round(float(m.group(1)) * 100)), message)
    assert message in html(response)
    assert f'value="{typed}"' in html(response)
    assert snapshot() == before and balance_of(alice) == balance


def test_a_balance_in_credit_refunds_nothing(app, owner, alice, paid):

    top_up = paid(alice, 2000)
    set_credit_limit(alice, 5000)
    adjust(alice, -4000, "correction", "", "", owner, "into-credit")  # balance -20.00
    with app.app_context(), pytest.raises(RefundError, match="Nothing can go back"):
        refund_to_card(alice, top_up.id, 100, "", owner, "k" * 20)
    assert balance_of(alice) == -2000 and Refund.select().count() == 0


@pytest.mark.parametrize("credit_limit", [0, 10000])
def test_a_movement_racing_past_the_checks_undoes_the_refund(
    app, owner, alice, paid, monkeypatch, credit_limit
):
    """Where reads don't queue behind writers (PostgreSQL), the caps may be read just before a
    concurrent spend lands; the ledger's guard (no credit) or the check of the balance after
    posting (with credit) refuses, and everything is undone."""

    top_up = paid(alice, 5000, bonus=500)
    set_credit_limit(alice, credit_limit)
    read_before_a_spend = refunds.refund_summary(alice)
    adjust(alice, -1000, "correction", "", "", owner, "spent-meanwhile")
    monkeypatch.setattr(refunds, "refund_summary", lambda user: replace(read_before_a_spend))
    before = snapshot()
    with app.app_context(), pytest.raises(RefundError, match="The balance changed"):
        refund_to_card(alice, top_up.id, 5000, "", owner, "racing-key-1234")
    assert snapshot() == before and balance_of(alice) == 4500


def test_the_top_up_caps_add_up_over_several_refunds(owner_client, alice, paid):
    top_up = paid(alice, 3000)
    assert send(owner_client, alice, top_up, "20").status_code == 303
    assert send(owner_client, alice, top_up, "10.01").status_code == 422
    assert send(owner_client, alice, top_up, "10").status_code == 303
    response = send(owner_client, alice, top_up, "0.01")
    assert response.status_code == 422 and "refunded in full already" in html(response)
    assert balance_of(alice) == 0 and sandbox_payment(top_up).refunded == 3000


# The bonus ---------------------------------------------------------------------------------


def test_round_half_up():
    assert [round_half_up(n, 2) for n in (0, 1, 2, 3, 5)] == [0, 1, 1, 2, 3]
    assert round_half_up(101 * 1000, 2000) == 51  # 50.5: half up, not to even, not down


def test_bonus_is_taken_back_in_proportion_rounded_half_up(owner_client, alice, paid):
    top_up = paid(alice, 2000, bonus=101)  # 20.00 paid, 1.01 bonus: balance 21.01
    promotions_before = system_account(PROMOTIONS).balance

    assert send(owner_client, alice, top_up, "10").status_code == 303
    first = Refund.get()
    assert first.bonus_reversal == 51  # 1.01 x 10/20 = 0.505, half up
    assert balance_of(alice) == 2101 - 1000 - 51
    journal = Journal.get(Journal.idempotency_key == f"refund:{first.id}")
    assert sorted((e.account.code, e.amount, e.category) for e in journal.entries) == sorted(
        [
            (f"customer:{alice.id}", -1000, "refund_out"),
            (PROVIDER_CLEARING, 1000, "refund_out"),
            (f"customer:{alice.id}", -51, "bonus_reversal"),
            (PROMOTIONS, 51, "bonus_reversal"),
        ]
    )
    assert f"Bonus taken back: {money(51)}" in html(owner_client.get(page_of(alice)))

    assert send(owner_client, alice, top_up, "10").status_code == 303
    second = Refund.select().order_by(Refund.id.desc()).get()
    assert second.bonus_reversal == 50  # the rest of the bonus, never more
    assert balance_of(alice) == 0
    assert system_account(PROMOTIONS).balance == promotions_before + 101


def test_partial_refunds_take_back_what_one_refund_would(app, owner, alice, paid):
    top_up = paid(alice, 3000, bonus=500)
    with app.app_context():
        taken = [
            refund_to_card(alice, top_up.id, amount, "", owner, f"part-{amount}-key-x").bonus_reversal
            for amount in (1001, 999, 1000)
        ]
    assert taken == [167, 166, 167]  # 166.83 -> 167; 333.33 -> 333 in all; 500 in all
    assert sum(taken) == 500 and balance_of(alice) == 0


def test_other_gifts_stay_with_the_customer(app, owner, alice, paid):

    ShopSettings.update(signup_bonus=300).execute()
    credit_signup_bonus(alice)
    top_up = paid(alice, 2000, bonus=200)
    assert refund_summary(alice).refundable == 2000
    with app.app_context():
        refund_to_card(alice, top_up.id, 2000, "", owner, "all-of-it-key-1")
    assert balance_of(alice) == 300  # the signup bonus is not tied to the deposit


# The provider says no, or doesn't answer --------------------------------------------------


def test_a_refusal_puts_the_money_back_through_a_correcting_journal(owner_client, alice, paid):
    top_up = paid(alice, 3000, bonus=300)
    # Refunded at the provider already (from its dashboard, say): it refuses a second refund.
    SandboxProvider().refund(top_up.provider_payment_id, 3000, "outside-the-shop")

    response = send(owner_client, alice, top_up, "30")

    assert response.status_code == 303
    refund = Refund.get()
    assert refund.state == "failed" and "more than is left to refund" in refund.failure
    assert balance_of(alice) == 3300
    original = Journal.get(Journal.idempotency_key == f"refund:{refund.id}")
    correction = Journal.get(Journal.idempotency_key == f"refund-reversed:{refund.id}")
    assert correction.corrects_id == original.id
    assert sorted((e.account_id, e.amount, e.category) for e in correction.entries) == sorted(
        (e.account_id, -e.amount, e.category) for e in original.entries
    )
    assert SandboxRefund.select().count() == 1  # only the one made outside
    assert not OutboxMessage.select().where(OutboxMessage.kind == "funds_refunded").exists()
    page = html(owner_client.get(page_of(alice)))
    assert "The payment provider refused the refund" in page and "the money is back" in page
    assert "Refused by the provider, money put back" in page
    # The refused refund no longer counts against the top-up.
    assert refund_summary(alice).top_ups[0].refunded == 0


def test_an_unknown_outcome_stays_pending_and_the_job_completes_it(
    owner_client, alice, paid, app, monkeypatch
):
    top_up = paid(alice, 5000, bonus=500)
    real_refund = SandboxProvider.refund

    def answer_lost(self, payment_id, amount, key):
        real_refund(self, payment_id, amount, key)  # the provider did it ...
        raise TimeoutError("read timed out")  # ... but the answer never arrived

    monkeypatch.setattr(SandboxProvider, "refund", answer_lost)
    response = send(owner_client, alice, top_up, "40")

    assert response.status_code == 303
    refund = Refund.get()
    assert refund.state == "pending" and refund.attempts == 1
    assert balance_of(alice) == 5500 - 4000 - 400  # set aside: it cannot be spent meanwhile
    page = html(owner_client.get(page_of(alice)))
    assert "is being confirmed" in page and "Being confirmed by the provider" in page
    assert "refused" not in page.lower()
    assert not OutboxMessage.select().where(OutboxMessage.kind == "funds_refunded").exists()

    monkeypatch.setattr(SandboxProvider, "refund", real_refund)
    now = datetime.datetime.now(datetime.UTC)
    with app.app_context():
        assert retry_pending_refunds(now + datetime.timedelta(seconds=20)) == 0  # too early to ask again
        assert Refund.get().state == "pending"
        assert retry_pending_refunds(now + datetime.timedelta(minutes=2)) == 1
        assert retry_pending_refunds(now + datetime.timedelta(minutes=4)) == 0

    refund = Refund.get()
    assert refund.state == "succeeded" and refund.attempts == 2
    assert SandboxRefund.select().count() == 1 and sandbox_payment(top_up).refunded == 4000
    assert balance_of(alice) == 1100
    assert OutboxMessage.select().where(OutboxMessage.kind == "funds_refunded").count() == 1


def test_a_timeout_before_the_provider_acted_is_retried_once_it_answers(app, owner, alice, paid, monkeypatch):
    top_up = paid(alice, 2000)
    real_refund = SandboxProvider.refund

    def unreachable(self, payment_id, amount, key):
        raise ConnectionError("connection reset")

    monkeypatch.setattr(SandboxProvider, "refund", unreachable)
    with app.app_context():
        refund = refund_to_card(alice, top_up.id, 2000, "", owner, "unreachable-key")
        assert refund.state == "pending" and balance_of(alice) == 0
        later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=2)
        assert retry_pending_refunds(later) == 0  # still no answer: still pending, never failed
        assert Refund.get().state == "pending"
        monkeypatch.setattr(SandboxProvider, "refund", real_refund)
        # The same form sent again asks the provider again (same key), like the job would.
        assert refund_to_card(alice, top_up.id, 2000, "", owner, "unreachable-key").state == "succeeded"
    assert SandboxRefund.select().count() == 1 and Refund.select().count() == 1


def test_a_refusal_found_by_the_job_puts_the_money_back(app, owner, alice, paid, monkeypatch):
    top_up = paid(alice, 2000)
    real_refund = SandboxProvider.refund
    monkeypatch.setattr(SandboxProvider, "refund", lambda *args: (_ for _ in ()).throw(TimeoutError()))
    with app.app_context():
        refund_to_card(alice, top_up.id, 1500, "", owner, "refused-later-key")
        monkeypatch.setattr(SandboxProvider, "refund", real_refund)
        real_refund(SandboxProvider(), top_up.provider_payment_id, 2000, "outside")  # refunded elsewhere
        assert retry_pending_refunds(datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=2)) == 1
    assert Refund.get().state == "failed" and balance_of(alice) == 2000


# Who may refund ------------------------------------------------------------------------------


def test_staff_are_refused_and_see_no_form(app, staff, alice, paid):
    top_up = paid(alice, 5000)
    client = app.test_client()
    sign_in(client, staff)
    body = html(client.get(page_of(alice)))
    assert "Only the owner can refund" in body and 'id="refund-form"' not in body
    before = snapshot()
    assert send(client, alice, top_up, "10").status_code == 403
    assert snapshot() == before and balance_of(alice) == 5000


def test_another_customers_top_up_is_not_found(owner_client, alice, make_customer, paid):
    bob = make_customer(first_name="Bob")
    bobs = paid(bob, 3000)
    paid(alice, 5000)
    before = snapshot()
    assert send(owner_client, alice, bobs, "10").status_code == 404
    assert send(owner_client, alice, 999999, "10").status_code == 404
    assert snapshot() == before and balance_of(bob) == 3000 and balance_of(alice) == 5000


def test_an_unpaid_top_up_is_not_found(owner_client, alice, paid, app):
    paid(alice, 5000)
    with app.test_request_context():
        unpaid = start_top_up(alice, 2000, secrets.token_urlsafe(18))
    assert send(owner_client, alice, unpaid, "10").status_code == 404


def test_unknown_or_non_customer_ids_are_not_found(owner_client, owner, alice, paid):
    top_up = paid(alice, 5000)
    data = {"refund-top_up": top_up.id, "refund-amount": "1"}
    assert post_form(owner_client, refund_url(owner), data, page="/").status_code == 404
    assert post_form(owner_client, "/admin/funds/customers/999999/refund", {}, page="/").status_code == 404


def test_refunds_need_a_fresh_sign_in(owner_client, alice, paid):
    top_up = paid(alice, 5000)
    with owner_client.session_transaction() as session:
        session["password_at"] -= 16 * 60
    before = snapshot()
    response = send(owner_client, alice, top_up, "10")
    assert response.status_code == 303 and "/account/confirm-password" in response.headers["Location"]
    assert snapshot() == before


def test_customers_cannot_reach_it(customer_client, customer, paid):
    top_up = paid(customer, 5000)
    assert send(customer_client, customer, top_up, "10").status_code == 403
    assert customer.role == CUSTOMER and balance_of(customer) == 5000


# htmx ------------------------------------------------------------------------------------------


def test_htmx_gets_the_form_alone_on_422_and_a_location_on_success(owner_client, alice, paid):
    top_up = paid(alice, 5000)
    hx = {"HX-Request": "true"}
    response = send(owner_client, alice, top_up, "60", headers=hx)
    assert response.status_code == 422
    body = html(response)
    assert body.lstrip().startswith("<form") and 'id="refund-form"' in body and "<html" not in body
    assert f"At most {money(5000)}" in body and 'value="60"' in body

    response = send(owner_client, alice, top_up, "5", headers=hx)
    assert response.status_code == 204
    assert page_of(alice) in response.headers["HX-Location"]
    assert account_for(alice).balance == 4500
