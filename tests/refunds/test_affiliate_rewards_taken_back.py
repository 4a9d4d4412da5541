"""An affiliate's reward is taken back, once, when the referred customer's first order is refunded in
full or cancelled after payment (models/refunds/gifts.py): as much as the affiliate's balance still
holds, the shortfall recorded; a partial refund takes nothing back."""

import re

import pytest

from models.funds.customer_accounts import account_for
from models.funds.ledger import check_ledger
from models.funds.ledger import Journal
from models.funds.ledger import PROMOTIONS
from models.funds.ledger import system_account
from models.groups.group import CustomerGroup
from models.orders.affiliate_rewards import referrals_with_rewards
from models.orders.affiliate_rewards import reversal_key
from models.orders.affiliate_rewards import reward_key
from models.orders.order import Order
from models.orders.order import OrderEvent
from models.orders.order import PAID
from models.refunds.gifts import CANCELLED_AFTER_PAYMENT
from models.refunds.gifts import take_back
from models.refunds.gifts import take_back_reward
from models.refunds.orders import cancel_paid_order
from models.refunds.orders import refund_order
from models.shop.outbox import OutboxMessage
from models.storefront.catalog import Category
from models.storefront.catalog import Product
from tests.conftest import sign_in
from tests.factories import fund
from tests.factories import placed_order

REWARD = 500  # the Affiliate group's reward (migration 0003)
PRICE = 2000


@pytest.fixture
def tea(ctx):
    category = Category.create(name="Tea", slug="tea")
    return Product.create(name="Green tea", slug="green-tea", price=PRICE, stock=100, category=category)


@pytest.fixture
def affiliate(ctx, make_customer):
    group = CustomerGroup.get(CustomerGroup.name == "Affiliate")
    return make_customer(group=group, first_name="Aff", last_name="Iliate", email="aff@example.com")


@pytest.fixture
def friend(affiliate, make_customer):
    return make_customer(first_name="Ana", last_name="Lopez", email="ana@example.com", referred_by=affiliate)


def paid_from_funds(user, product, key):
    order = placed_order(user, (product, 1), key=key, funds=product.price)
    assert order.status == PAID
    return order


def balance(user):
    return account_for(user).balance


def reversals():
    return list(Journal.select().where(Journal.kind == "affiliate_reward_reversal"))


def affiliate_emails(affiliate):
    return list(
        OutboxMessage.select().where(
            (OutboxMessage.to_address == affiliate.email)
            & (OutboxMessage.kind == "affiliate_reward_taken_back")
        )
    )


def spend(user, price, key):
    """The affiliate spends `price` of their balance on an order of their own."""
    product = Product.create(
        name=f"Mug {key}", slug=f"mug-{key}", price=price, stock=5, category=Category.get()
    )
    order = placed_order(user, (product, 1), key=f"order-spend-{key:0>8}")
    assert order.status == PAID


def test_the_one_rule_takes_what_is_held_and_never_below_nothing():
    assert take_back(500, 800) == 500
    assert take_back(500, 500) == 500
    assert take_back(500, 200) == 200
    assert take_back(500, 0) == 0
    assert take_back(500, -300) == 0  # a balance in credit gives nothing back
    assert take_back(0, 800) == 0


def test_a_full_refund_takes_the_reward_back_once(friend, affiliate, owner, tea):
    promotions = system_account(PROMOTIONS).balance
    order = paid_from_funds(friend, tea, "order-0000000001")
    assert balance(affiliate) == REWARD
    refund_order(order, PRICE, "funds", "Changed their mind", owner, "refund-key-000000000001")

    (reversal,) = reversals()
    reward = Journal.get(Journal.idempotency_key == reward_key(friend))
    assert reversal.idempotency_key == reversal_key(friend) == f"affiliate-reward-reversed:{friend.id}"
    assert reversal.corrects_id == reward.id
    assert {(e.account_id, e.amount, e.category) for e in reversal.entries} == {
        (account_for(affiliate).id, -REWARD, "bonus_reversal"),
        (system_account(PROMOTIONS).id, REWARD, "bonus_reversal"),
    }
    assert reversal.memo == "Referral reward taken back: Ana L.'s first order was refunded"
    assert balance(affiliate) == 0
    assert system_account(PROMOTIONS).balance == promotions
    assert balance(friend) == PRICE  # the customer's refund is untouched by it
    (event,) = OrderEvent.select().where(OrderEvent.note.startswith("Referral reward"))
    assert event.note == "Referral reward taken back from whoever referred this customer: €5.00 of €5.00."
    (mail,) = affiliate_emails(affiliate)
    assert "Ana L.'s first order" in mail.text_body and "was refunded" in mail.text_body
    assert "We took the €5.00 back" in mail.text_body
    assert "ana@example.com" not in mail.text_body and "Lopez" not in mail.text_body

    # A replayed refund, a cancellation afterwards: nothing is taken again.
    refund_order(order, PRICE, "funds", "Changed their mind", owner, "refund-key-000000000001")
    cancel_paid_order(Order.get_by_id(order.id), "funds", "", owner, "cancel-key-0000000001")
    assert len(reversals()) == 1 and balance(affiliate) == 0 and len(affiliate_emails(affiliate)) == 1
    assert check_ledger() == []


def test_a_partial_refund_leaves_the_reward_and_the_rest_takes_it_back(friend, affiliate, owner, tea):
    order = paid_from_funds(friend, tea, "order-0000000001")
    refund_order(order, PRICE - 1, "funds", "", owner, "refund-key-000000000001")
    assert reversals() == [] and balance(affiliate) == REWARD
    assert affiliate_emails(affiliate) == []
    (row,) = referrals_with_rewards(affiliate)
    assert row.status == "rewarded"

    refund_order(Order.get_by_id(order.id), 1, "funds", "", owner, "refund-key-000000000002")
    assert len(reversals()) == 1 and balance(affiliate) == 0


def test_cancelling_the_paid_order_takes_the_reward_back_once(friend, affiliate, owner, tea):
    order = paid_from_funds(friend, tea, "order-0000000001")
    cancel_paid_order(order, "funds", "Out of stock", owner, "cancel-key-0000000001")
    cancel_paid_order(order, "funds", "Out of stock", owner, "cancel-key-0000000001")  # a double click
    (reversal,) = reversals()
    assert reversal.memo == "Referral reward taken back: Ana L.'s first order was cancelled"
    assert balance(affiliate) == 0 and balance(friend) == PRICE
    assert "was cancelled" in affiliate_emails(affiliate)[0].text_body
    assert check_ledger() == []


def test_cancelling_after_a_partial_refund_takes_it_back(friend, affiliate, owner, tea):
    order = paid_from_funds(friend, tea, "order-0000000001")
    refund_order(order, 700, "funds", "", owner, "refund-key-000000000001")
    assert reversals() == []
    cancel_paid_order(Order.get_by_id(order.id), "funds", "", owner, "cancel-key-0000000001")
    assert len(reversals()) == 1 and balance(affiliate) == 0


def test_only_what_the_affiliate_still_holds_is_taken_back_and_the_shortfall_recorded(
    friend, affiliate, owner, tea
):
    order = paid_from_funds(friend, tea, "order-0000000001")
    spend(affiliate, 300, "a")  # 200 of the reward left
    refund_order(order, PRICE, "funds", "", owner, "refund-key-000000000001")
    (reversal,) = reversals()
    assert balance(affiliate) == 0  # never below zero through this
    assert sorted(e.amount for e in reversal.entries) == [-200, 200]
    assert reversal.memo == (
        "Referral reward taken back: Ana L.'s first order was refunded (€2.00 of €5.00, all your balance still held)"
    )
    (event,) = OrderEvent.select().where(OrderEvent.note.startswith("Referral reward"))
    assert event.note == (
        "Referral reward taken back from whoever referred this customer: €2.00 of €5.00; "
        "€3.00 was no longer in their balance and is not taken back."
    )
    assert "We took back €2.00" in affiliate_emails(affiliate)[0].text_body
    (row,) = referrals_with_rewards(affiliate)
    assert (row.status, row.reward, row.taken_back) == ("taken_back", REWARD, 200)
    assert check_ledger() == []


def test_nothing_held_takes_nothing_but_records_the_reversal_once(friend, affiliate, owner, tea):
    order = paid_from_funds(friend, tea, "order-0000000001")
    spend(affiliate, REWARD, "a")
    cancel_paid_order(order, "funds", "", owner, "cancel-key-0000000001")
    (reversal,) = reversals()
    assert balance(affiliate) == 0
    assert {e.amount for e in reversal.entries} == {0}
    assert "your balance no longer held any of the €5.00: nothing taken" in reversal.memo
    assert "nothing was taken" in affiliate_emails(affiliate)[0].text_body
    (row,) = referrals_with_rewards(affiliate)
    assert (row.status, row.taken_back) == ("taken_back", 0)
    # Money that arrives later is not chased.
    fund(affiliate, 1000, key="later")
    assert take_back_reward(order, CANCELLED_AFTER_PAYMENT).id == reversal.id
    assert len(reversals()) == 1 and balance(affiliate) == 1000


def test_a_later_order_refunded_in_full_takes_nothing_back(friend, affiliate, owner, tea):
    paid_from_funds(friend, tea, "order-0000000001")
    second = paid_from_funds(friend, tea, "order-0000000002")
    refund_order(second, PRICE, "funds", "", owner, "refund-key-000000000001")
    assert reversals() == [] and balance(affiliate) == REWARD


def test_an_order_that_earned_no_reward_takes_nothing_back(make_customer, affiliate, owner, tea):
    stranger = make_customer()
    order = paid_from_funds(stranger, tea, "order-0000000001")
    refund_order(order, PRICE, "funds", "", owner, "refund-key-000000000001")
    assert reversals() == [] and balance(affiliate) == 0


def test_the_affiliate_reads_it_truthfully(app, friend, affiliate, owner, tea):
    order = paid_from_funds(friend, tea, "order-0000000001")
    spend(affiliate, 300, "a")
    refund_order(order, PRICE, "funds", "", owner, "refund-key-000000000001")
    browser = app.test_client()
    sign_in(browser, affiliate)
    page = browser.get("/account/membership").get_data(as_text=True)
    items = [" ".join(item.split()) for item in re.findall(r"<li>(.*?)</li>", page, re.DOTALL)]
    ana = next(item for item in items if item.startswith("Ana L."))
    assert re.search(
        r"reward paid €5\.00 on [^,]+, then their first order was refunded: €2\.00 of it taken back on \w",
        ana,
    ), ana
    assert 'href="/account/funds/history?category=bonus_reversal"' in page
    history = browser.get("/account/funds/history?category=bonus_reversal").get_data(as_text=True)
    assert "Referral reward taken back: Ana L.&#39;s first order was refunded" in history
    assert "lopez" not in history.lower()
