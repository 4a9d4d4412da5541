"""Invoice and credit-note numbers: one gap-free sequence per kind and year, taken with the
payment or the refund, copies of the seller and the buyer kept as issued."""

import datetime

import pytest
from peewee import IntegrityError

from models.orders.fulfilment import receive_bank_transfer
from models.orders.invoice import Invoice
from models.orders.invoice import invoice_of
from models.orders.order import BANK
from models.orders.order import Order
from models.refunds.credit_notes import credit_notes_of
from models.refunds.credit_notes import CreditNote
from models.refunds.orders import cancel_paid_order
from models.refunds.orders import refund_order
from models.shop.settings import ShopSettings
from payments import sandbox
from payments.sandbox import SandboxProvider
from tests.factories import paid_order
from tests.factories import placed_order

UTC = datetime.UTC


@pytest.fixture(autouse=True)
def request_context(ctx):
    """The order emails' links need one; these tests use no test client."""


def bank_order(buyer, make_product, key):
    return placed_order(buyer, (make_product(price=3000, stock=5), 1), key=key, method=BANK)


def pay(order, at):
    receive_bank_transfer(order, None, now=at.astimezone(UTC).replace(tzinfo=None))
    return invoice_of(order)


def test_each_paid_order_gets_the_years_next_number_and_unpaid_ones_none(buyer, make_product):
    first = bank_order(buyer, make_product, "order-key-0000000001")
    second = bank_order(buyer, make_product, "order-key-0000000002")
    unpaid = bank_order(buyer, make_product, "order-key-0000000003")
    at = datetime.datetime(2026, 12, 7, 10, tzinfo=UTC)
    assert pay(second, at).number == "2026-000001"  # in the order they were paid
    assert pay(first, at).number == "2026-000002"
    assert invoice_of(unpaid) is None


def test_the_year_is_the_shops_on_the_day_of_payment(buyer, make_product):
    ShopSettings.update(timezone="Europe/Paris").execute()
    orders = [bank_order(buyer, make_product, f"order-key-000000000{n}") for n in range(3)]
    assert pay(orders[0], datetime.datetime(2026, 12, 31, 22, 30, tzinfo=UTC)).number == "2026-000001"
    # 23:30 UTC on 31 December is already 2027 in Paris: the new year starts again at 1.
    new_year = pay(orders[1], datetime.datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    assert new_year.number == "2027-000001" and new_year.local_date == datetime.date(2027, 1, 1)
    assert pay(orders[2], datetime.datetime(2027, 1, 2, tzinfo=UTC)).number == "2027-000002"


def test_a_payment_that_fails_gives_its_number_back(buyer, make_product, monkeypatch):
    order = bank_order(buyer, make_product, "order-key-0000000001")
    other = bank_order(buyer, make_product, "order-key-0000000002")

    def broken(*args, **kwargs):
        raise RuntimeError("the mail template broke")

    monkeypatch.setattr("models.orders.fulfilment.mail_customer", broken)
    with pytest.raises(RuntimeError):
        receive_bank_transfer(order, None)
    assert Invoice.select().count() == 0 and Order.get_by_id(order.id).paid_at is None
    monkeypatch.undo()
    assert pay(other, datetime.datetime.now(UTC)).number.endswith("-000001")


def test_the_invoice_keeps_the_seller_and_buyer_as_they_were(buyer, make_product, seller):
    order = bank_order(buyer, make_product, "order-key-0000000001")
    invoice = pay(order, datetime.datetime.now(UTC))
    ShopSettings.update(legal_name="Renamed SARL", vat_number="FR99").execute()
    Order.update(billing_name="Someone Else").where(Order.id == order.id).execute()
    invoice = Invoice.get_by_id(invoice.id)
    assert (invoice.seller_name, invoice.seller_vat_number) == ("Test Shop SAS", "FR12123456789")
    assert invoice.seller_address == "12 rue de la Paix\n75002 Paris\nFrance"
    assert invoice.seller_company_number == "SIRET 123 456 789 00012"
    assert invoice.seller_mentions == seller["legal_mentions"]
    assert (invoice.buyer_name, invoice.buyer_address, invoice.buyer_country) == (
        "Ann Buyer",
        "1 High St\nTown T1 1AA",
        "GB",
    )


def test_issued_invoices_and_credit_notes_cannot_be_edited_nor_deleted(buyer, make_product, owner):
    order = bank_order(buyer, make_product, "order-key-0000000001")
    invoice = pay(order, datetime.datetime.now(UTC))
    refund_order(Order.get_by_id(order.id), 500, "funds", "", owner, "refund-key-000000000001")
    for query in (
        Invoice.update(buyer_name="X").where(Invoice.id == invoice.id),
        Invoice.delete().where(Invoice.id == invoice.id),
        CreditNote.update(amount=1),
        CreditNote.delete(),
    ):
        with pytest.raises(IntegrityError):
            query.execute()


def test_a_refund_to_funds_issues_a_credit_note_pointing_at_the_invoice(buyer, make_product, owner):
    order = bank_order(buyer, make_product, "order-key-0000000001")
    invoice = pay(order, datetime.datetime.now(UTC))
    refund = refund_order(
        Order.get_by_id(order.id), 1200, "funds", "Dented tin", owner, "refund-key-000000000001"
    )
    again = refund_order(
        Order.get_by_id(order.id), 1200, "funds", "Dented tin", owner, "refund-key-000000000001"
    )
    assert again.id == refund.id
    [note] = credit_notes_of(order)
    year = invoice.local_date.year
    assert (note.number, note.invoice_id, note.invoice_number) == (
        f"AV-{year}-000001",
        invoice.id,
        invoice.number,
    )
    assert (note.amount, note.reason, note.order_refund_id) == (1200, "Dented tin", refund.id)
    cancel_paid_order(Order.get_by_id(order.id), "funds", "Out of stock", owner, "cancel-key-0000000001")
    assert [(n.number, n.amount) for n in credit_notes_of(order)] == [
        (f"AV-{year}-000001", 1200),
        (f"AV-{year}-000002", 1800),
    ]


def test_a_card_refund_gets_its_credit_note_once_the_provider_says_yes(buyer, make_product, owner):
    order = paid_order(buyer, (make_product(price=3000), 1), funds=1000)
    refund = refund_order(order, 3000, "original", "", owner, "refund-key-000000000001")
    assert refund.card_state == "succeeded"
    assert [n.amount for n in credit_notes_of(order)] == [3000]


def test_a_refused_card_refund_gets_a_credit_note_only_for_what_went_back(
    buyer, make_product, make_customer, owner, monkeypatch
):
    order = paid_order(buyer, (make_product(price=3000), 1), funds=1000)

    def refuse(*args):
        raise sandbox.PaymentError("Card expired")

    monkeypatch.setattr(SandboxProvider, "refund", refuse)
    refund_order(order, 3000, "original", "", owner, "refund-key-000000000001")
    assert [n.amount for n in credit_notes_of(order)] == [1000]  # the funds part, not the card's
    monkeypatch.undo()
    refund_order(Order.get_by_id(order.id), 2000, "original", "", owner, "refund-key-000000000002")
    assert [n.amount for n in credit_notes_of(order)] == [1000, 2000]
    card_only = paid_order(
        make_customer(),
        (make_product(price=2000), 1),
        key="order-key-0000000009",
        pay_key="pay-key-000000000009",
    )
    monkeypatch.setattr(SandboxProvider, "refund", refuse)
    refund_order(card_only, 2000, "original", "", owner, "refund-key-000000000003")
    assert card_only.card_amount == 2000 and credit_notes_of(card_only) == []  # nothing went back


def test_an_order_paid_before_invoices_had_numbers_keeps_its_order_number(
    buyer, make_product, owner, monkeypatch
):
    monkeypatch.setattr("models.orders.paid.issue_invoice", lambda order, now: None)  # before the change
    order = bank_order(buyer, make_product, "order-key-0000000001")
    receive_bank_transfer(order, None)
    monkeypatch.undo()
    assert invoice_of(order) is None
    refund_order(Order.get_by_id(order.id), 500, "funds", "", owner, "refund-key-000000000001")
    [note] = credit_notes_of(order)
    assert (note.invoice_id, note.invoice_number) == (None, order.number)
