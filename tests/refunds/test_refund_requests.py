"""Customers ask for their deposited money back from the funds page; the owner decides in
Approvals (issue 20, 9): the page says what can be refunded (deposits not spent, never bonus),
the request is prefilled, bad input keeps what was typed, one request waits at a time; approving
refunds to the cards of the top-ups within today's caps, declining needs a reason; the customer
is emailed either way and the owner's decision is audited."""

import re
import secrets

import pytest

from models.funds.customer_accounts import account_for
from models.funds.ledger import check_ledger
from models.funds.ledger import Entry
from models.funds.ledger import Journal
from models.funds.ledger import Leg
from models.funds.ledger import SALES
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.funds.signup_bonus import credit_signup_bonus
from models.funds.top_ups import complete_top_up
from models.funds.top_ups import start_top_up
from models.funds.top_ups import TopUp
from models.refunds.requests import approve_refund_request
from models.refunds.requests import APPROVED
from models.refunds.requests import DECLINED
from models.refunds.requests import RefundRequest
from models.refunds.requests import RefundRequestError
from models.refunds.requests import request_refund
from models.refunds.top_ups import Refund
from models.shop.audit import AuditEntry
from models.shop.outbox import OutboxMessage
from models.shop.settings import update_settings
from payments import sandbox
from payments.sandbox import SandboxPayment
from payments.sandbox import SandboxProvider
from payments.sandbox import SandboxRefund
from tests.conftest import post_form
from tests.conftest import sign_in

FUNDS = "/account/funds"
ASK = "/account/funds/refund-request"
APPROVALS = "/admin/approvals"


@pytest.fixture
def paid(app):
    """paid(customer, amount, bonus=0): a top-up approved at the sandbox and credited."""

    def make(customer, amount, bonus=0):
        with app.test_request_context():
            top_up = start_top_up(customer, amount, secrets.token_urlsafe(18))
        sandbox.choose(SandboxPayment.get(SandboxPayment.public_id == top_up.provider_payment_id), "approve")
        TopUp.update(bonus=bonus).where(TopUp.id == top_up.id).execute()
        return complete_top_up(top_up)

    return make


def spend(customer, amount, key):
    transfer(
        key,
        "order",
        [Leg(account_for(customer), -amount, "spend"), Leg(system_account(SALES), amount, "spend")],
    )


def ask(client, amount, note=""):
    return post_form(client, ASK, {"refund-amount": amount, "refund-note": note}, page=FUNDS)


def decide(client, request_row, decision, **fields):
    data = {f"refund-{request_row.id}-{name}": value for name, value in fields.items()}
    return post_form(client, f"{APPROVALS}/refunds/{request_row.id}/{decision}", data, page=APPROVALS)


def text(response):
    return response.get_data(as_text=True)


# The customer's side ---------------------------------------------------------------------------


def test_the_funds_page_says_what_can_be_refunded_and_prefills_it(client, customer, paid):
    paid(customer, 5000, bonus=500)  # 50.00 paid in, 5.00 of bonus
    spend(customer, 1500, "tea")
    sign_in(client, customer)
    page = text(client.get(FUNDS))
    assert "Money you paid in by card and haven't spent can go back to the card you paid with." in page
    assert "Bonus money can't be refunded." in page
    assert "You can ask for up to <strong>€35.00</strong>." in page  # 40.00 left, the 5.00 bonus stays
    assert re.search(r'name="refund-amount"[^>]*value="35.00"', page)


def test_a_balance_of_bonus_only_offers_nothing_and_says_why(app, client, customer, owner):
    with app.app_context():
        update_settings({"signup_bonus": 500}, owner)
    credit_signup_bonus(customer)
    sign_in(client, customer)
    page = text(client.get(FUNDS))
    assert "Nothing in your balance can be refunded right now." in page
    assert "€5.00 of bonus in it is yours to spend" in page
    assert 'name="refund-amount"' not in page
    refused = ask(client, "5")
    assert refused.status_code == 422 and RefundRequest.select().count() == 0


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an amount, like 10 or 12.50."),
        ("abc", "Enter an amount using digits"),
        ("0", "Enter an amount above zero."),
        ("35.01", "You can ask for at most €35.00: the money you paid in by card and haven&#39;t spent."),
    ],
)
def test_bad_amounts_are_refused_clearly_and_what_was_typed_stays(client, customer, paid, typed, message):
    paid(customer, 3500)
    sign_in(client, customer)
    response = ask(client, typed, note="To my old card, please")
    assert response.status_code == 422
    page = text(response)
    assert message in page and "There is a problem" in page
    assert re.search(rf'name="refund-amount"[^>]*value="{re.escape(typed)}"', page)
    assert "To my old card, please</textarea>" in page
    assert RefundRequest.select().count() == 0


def test_one_request_waits_at_a_time(client, customer, paid):
    paid(customer, 3500)
    sign_in(client, customer)
    sent = ask(client, "20", note="Moving abroad")
    assert sent.status_code == 303 and sent.location.endswith("/account/funds#refunds")
    page = text(client.get(FUNDS))
    assert "You asked for a refund of <strong>€20.00</strong>" in page and 'name="refund-amount"' not in page
    with pytest.raises(RefundRequestError, match="You already asked for a refund"):
        request_refund(customer, 1000)
    assert RefundRequest.select().count() == 1
    assert RefundRequest.get().note == "Moving abroad"


# The owner's side ------------------------------------------------------------------------------


def test_approving_refunds_to_the_cards_newest_first_once_emails_and_audits(client, customer, owner, paid):
    older = paid(customer, 2000)
    newer = paid(customer, 3000, bonus=300)
    spend(customer, 500, "tea")  # 50.00 paid in, 45.00 of it left; 3.00 bonus
    request_row = request_refund(customer, 4500, "Closing my account")
    sign_in(client, owner)
    queue = text(client.get(APPROVALS))
    assert f"{customer.display_name} asks for a refund of €45.00" in queue
    assert "Closing my account" in queue and "can go back to their cards now: €45.00" in queue
    response = decide(client, request_row, "approve", amount="45.00")
    assert response.status_code == 303
    assert "Refunded €45.00 to the card of" in text(client.get(APPROVALS))
    refunds = {refund.top_up_id: refund for refund in Refund.select()}
    assert (refunds[newer.id].amount, refunds[older.id].amount) == (3000, 1500)  # newest first
    assert {refund.state for refund in refunds.values()} == {"succeeded"}
    assert refunds[newer.id].bonus_reversal == 300  # the bonus follows its deposit, as always
    assert SandboxRefund.select().count() == 2
    assert account_for(customer).balance == 0
    decided = RefundRequest.get_by_id(request_row.id)
    assert (decided.state, decided.refunded, decided.decided_by_id) == (APPROVED, 4500, owner.id)
    audit = AuditEntry.get(AuditEntry.action == "refund_request_approved")
    assert audit.actor_id == owner.id and '"refunded": 4500' in audit.after
    mail = OutboxMessage.get(OutboxMessage.kind == "refund_request_approved")
    assert mail.to_address == customer.email
    assert "€45.00 goes back to the cards you topped up with" in mail.text_body
    assert "http://shop.test/account/funds" in mail.text_body
    # A second click, or a second owner: nothing more moves.
    again = decide(client, request_row, "approve", amount="45.00")
    assert again.status_code == 422 and Refund.select().count() == 2
    assert "That request was already decided; nothing changed." in text(again)
    assert check_ledger() == []


def test_the_owner_may_approve_less_but_never_more_than_asked_or_than_is_left(client, customer, owner, paid):
    paid(customer, 5000)
    request_row = request_refund(customer, 3000)
    spend(customer, 3000, "spent-since")  # only 20.00 can go back now
    sign_in(client, owner)
    assert re.search(rf'name="refund-{request_row.id}-amount"[^>]*value="20.00"', text(client.get(APPROVALS)))
    too_much = decide(client, request_row, "approve", amount="25")
    assert too_much.status_code == 422
    assert "At most €20.00 can go back to the customer&#39;s cards now" in text(too_much)
    assert re.search(rf'name="refund-{request_row.id}-amount"[^>]*value="25"', text(too_much))
    beyond = decide(client, request_row, "approve", amount="31")
    assert "The customer asked for €30.00; refund at most that." in text(beyond)
    assert Refund.select().count() == 0 and RefundRequest.get_by_id(request_row.id).state == "pending"
    assert decide(client, request_row, "approve", amount="12.50").status_code == 303
    assert RefundRequest.get_by_id(request_row.id).refunded == 1250
    assert (
        "You asked for €30.00."
        in OutboxMessage.get(OutboxMessage.kind == "refund_request_approved").text_body
    )


def test_declining_needs_a_reason_which_the_customer_is_emailed(client, customer, owner, paid):
    paid(customer, 5000)
    request_row = request_refund(customer, 5000)
    sign_in(client, owner)
    empty = decide(client, request_row, "decline", reason="  ")
    assert empty.status_code == 422 and "Give the customer a reason when declining." in text(empty)
    declined = decide(client, request_row, "decline", reason="You ordered a cake for Saturday.")
    assert declined.status_code == 303
    row = RefundRequest.get_by_id(request_row.id)
    assert (row.state, row.reason) == (DECLINED, "You ordered a cake for Saturday.")
    mail = OutboxMessage.get(OutboxMessage.kind == "refund_request_declined")
    assert "You ordered a cake for Saturday." in mail.text_body and "€50.00" in mail.text_body
    assert AuditEntry.get(AuditEntry.action == "refund_request_declined").actor_id == owner.id
    assert Refund.select().count() == 0 and account_for(customer).balance == 5000
    sign_in(customer_browser := client.application.test_client(), customer)
    page = text(customer_browser.get(FUNDS))
    assert "Declined" in page and "You ordered a cake for Saturday." in page
    assert 'name="refund-amount"' in page  # they may ask again


def test_staff_see_the_queue_but_only_the_owner_decides(client, customer, staff, paid):
    paid(customer, 5000)
    request_row = request_refund(customer, 5000)
    sign_in(client, staff)
    assert "Only the owner decides refunds." in text(client.get(APPROVALS))
    assert decide(client, request_row, "approve", amount="50").status_code == 403
    assert decide(client, request_row, "decline", reason="No").status_code == 403
    assert RefundRequest.get_by_id(request_row.id).state == "pending"


def test_a_refund_the_provider_refuses_puts_the_money_back_and_tells_the_owner(
    client, customer, owner, paid, monkeypatch
):
    paid(customer, 5000)
    request_row = request_refund(customer, 5000)

    def refuse(*args):
        raise sandbox.PaymentError("Card expired")

    monkeypatch.setattr(SandboxProvider, "refund", refuse)
    sign_in(client, owner)
    decide(client, request_row, "approve", amount="50")
    assert "refused €50.00 of the refund" in text(client.get(APPROVALS))
    assert Refund.get().state == "failed" and account_for(customer).balance == 5000
    assert check_ledger() == []


def test_approving_needs_a_fresh_sign_in(app, client, customer, owner, paid):
    paid(customer, 5000)
    request_row = request_refund(customer, 5000)
    sign_in(client, owner)
    with client.session_transaction() as session:
        session["password_at"] -= 16 * 60
    response = decide(client, request_row, "approve", amount="50")
    assert response.status_code == 303 and "/account/confirm-password" in response.location
    assert Refund.select().count() == 0


def test_the_approvals_count_includes_refund_requests(client, customer, owner, paid):
    paid(customer, 5000)
    request_refund(customer, 5000)
    sign_in(client, owner)
    assert re.search(r"Approvals\s*<span[^>]*>1<", text(client.get("/admin/")))


def test_only_money_of_card_top_ups_goes_back(customer, owner, paid):
    """A deposit that came through no top-up (here, straight through the ledger) has no card."""
    paid(customer, 1000)
    transfer(
        "no-top-up",
        "top_up",
        [
            Leg(account_for(customer), 2000, "deposit"),
            Leg(system_account("provider_clearing"), -2000, "deposit"),
        ],
    )
    request_row = request_refund(customer, 3000)
    with pytest.raises(RefundRequestError, match="can't go back to a card"):
        approve_refund_request(request_row.id, owner)
    assert (
        Refund.select().count() == 0 and Journal.select().where(Journal.kind == "refund_to_card").count() == 0
    )
    assert Entry.select().where(Entry.category == "refund_out").count() == 0
