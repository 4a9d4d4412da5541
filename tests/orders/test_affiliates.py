"""Affiliate rewards (models/orders/affiliate_rewards.py): a referred customer's first paid shop order pays
their affiliate once, from PROMOTIONS, category `reward`, keyed on the referred customer."""

import datetime
import multiprocessing
import re
import traceback

import pytest

from models.base import db
from models.base import utcnow
from models.funds.customer_accounts import account_for
from models.funds.ledger import check_ledger
from models.funds.ledger import Entry
from models.funds.ledger import Journal
from models.funds.ledger import PROMOTIONS
from models.funds.ledger import system_account
from models.groups.applications import move_to_group
from models.groups.group import CustomerGroup
from models.groups.group import default_group
from models.orders.affiliate_rewards import referrals_with_rewards
from models.orders.affiliate_rewards import reward_affiliate
from models.orders.affiliate_rewards import reward_key
from models.orders.card_payments import complete_card_payment
from models.orders.card_payments import start_card_payment
from models.orders.fulfilment import receive_bank_transfer
from models.orders.order import BANK
from models.orders.order import CARD
from models.orders.order import Order
from models.orders.order import OrderPayment
from models.orders.order import PAID
from models.orders.order import PENDING_PAYMENT
from models.orders.paid import mark_paid
from models.storefront.catalog import Category
from models.storefront.catalog import Product
from models.users.user import same_mailbox
from models.users.user import User
from shop import create_app
from tests.conftest import app_config
from tests.conftest import sign_in
from tests.factories import place
from tests.factories import placed_order
from tests.factories import shop

REWARD = 500  # the Affiliate group's reward (migration 0003)


@pytest.fixture
def product(ctx):
    category = Category.create(name="Tea", slug="tea")
    return Product.create(name="Green tea", slug="green-tea", price=1000, stock=100, category=category)


def affiliate_group():
    return CustomerGroup.get(CustomerGroup.name == "Affiliate")


@pytest.fixture
def affiliate(ctx, make_customer):
    return make_customer(group=affiliate_group(), first_name="Aff", last_name="Iliate")


@pytest.fixture
def friend(affiliate, make_customer):
    return make_customer(
        first_name="Ana", last_name="Lopez", email="ana.lopez@example.com", referred_by=affiliate
    )


def rewards():
    return list(Journal.select().where(Journal.kind == "affiliate_reward"))


def balance(user):
    return account_for(user).balance


def funds_order(user, product, key):
    """An order paid in full from funds when it is placed."""
    order = placed_order(user, (product, 1), key=key, funds=product.price)
    assert order.status == PAID
    return order


def card_order(user, product, key):
    """An unpaid order with its card payment started (the sandbox provider)."""
    order = placed_order(user, (product, 1), key=key, method=CARD)
    assert order.status == PENDING_PAYMENT
    return order, start_card_payment(order, f"pay-{key}")


# Paid exactly once ------------------------------------------------------------------------


def test_affiliate_reward_paid_once(friend, affiliate, product):
    promotions = system_account(PROMOTIONS).balance
    first = funds_order(friend, product, "order-0000000001")
    (journal,) = rewards()
    assert journal.idempotency_key == reward_key(friend) == f"affiliate-reward:{friend.id}"
    assert balance(affiliate) == REWARD
    assert system_account(PROMOTIONS).balance == promotions - REWARD
    legs = {(e.account_id, e.amount, e.category) for e in journal.entries}
    assert legs == {
        (system_account(PROMOTIONS).id, -REWARD, "reward"),
        (account_for(affiliate).id, REWARD, "reward"),
    }
    # What the affiliate reads: who it was for, never their email or full name.
    assert "Ana L." in journal.memo
    assert "lopez" not in journal.memo.lower()

    second = funds_order(friend, product, "order-0000000002")  # a second paid order
    now = utcnow()
    assert reward_affiliate(Order.get_by_id(first.id), now).id == journal.id  # a replayed hook
    assert reward_affiliate(Order.get_by_id(second.id), now).id == journal.id
    assert not mark_paid(Order.get_by_id(first.id), None, now, "again")  # paid is paid
    assert [j.id for j in rewards()] == [journal.id]
    assert balance(affiliate) == REWARD
    assert check_ledger() == []


def test_card_completion_pays_the_reward_once(friend, affiliate, product):
    order, payment = card_order(friend, product, "order-0000000001")
    assert rewards() == []  # placed, not paid: nothing yet
    complete_card_payment(payment)
    complete_card_payment(payment)  # the provider's notice after the browser came back
    assert Order.get_by_id(order.id).status == PAID
    assert len(rewards()) == 1
    assert balance(affiliate) == REWARD
    assert check_ledger() == []


def test_a_bank_transfer_received_pays_the_reward_once(friend, affiliate, owner, product):

    order = place(friend, shop(friend, (product, 1)), key="order-0000000001", method=BANK)
    assert rewards() == []
    receive_bank_transfer(order, owner)
    assert Order.get_by_id(order.id).status == PAID
    assert len(rewards()) == 1 and balance(affiliate) == REWARD


def test_each_referred_customer_earns_their_own_reward(affiliate, friend, make_customer, product):
    other = make_customer(first_name="Bo", last_name="Chen", referred_by=affiliate)
    funds_order(friend, product, "order-0000000001")
    funds_order(other, product, "order-0000000002")
    assert {j.idempotency_key for j in rewards()} == {reward_key(friend), reward_key(other)}
    assert balance(affiliate) == 2 * REWARD


# No reward ------------------------------------------------------------------------------------


def test_no_reward_for_a_marketplace_order_but_for_the_first_shop_order(friend, affiliate, product):
    order, payment = card_order(friend, product, "order-0000000001")
    Order.update(channel="amazon").where(Order.id == order.id).execute()
    complete_card_payment(payment)
    assert Order.get_by_id(order.id).status == PAID
    assert rewards() == [] and balance(affiliate) == 0
    # A paid marketplace order is not a "first shop order": the first shop order still earns it.
    funds_order(friend, product, "order-0000000002")
    assert len(rewards()) == 1 and balance(affiliate) == REWARD


def test_no_reward_without_a_referrer(make_customer, affiliate, product):
    promotions = system_account(PROMOTIONS).balance
    funds_order(make_customer(), product, "order-0000000001")
    assert rewards() == []
    assert system_account(PROMOTIONS).balance == promotions


def test_no_reward_when_the_group_reward_is_zero_and_later_orders_do_not_make_up_for_it(
    friend, affiliate, product
):
    CustomerGroup.update(affiliate_reward=0).where(CustomerGroup.id == affiliate_group().id).execute()
    funds_order(friend, product, "order-0000000001")
    assert rewards() == []
    # The rule is read when the first shop order is paid; that chance has passed.
    CustomerGroup.update(affiliate_reward=REWARD).where(CustomerGroup.id == affiliate_group().id).execute()
    funds_order(friend, product, "order-0000000002")
    assert rewards() == [] and balance(affiliate) == 0
    (row,) = referrals_with_rewards(affiliate)
    assert row.status == "no_reward"


def test_the_reward_is_the_affiliates_group_amount_when_the_order_is_paid(friend, affiliate, product):
    CustomerGroup.update(affiliate_reward=750).where(CustomerGroup.id == affiliate_group().id).execute()
    funds_order(friend, product, "order-0000000001")
    assert balance(affiliate) == 750


def test_no_reward_when_the_affiliate_left_the_affiliate_group(friend, affiliate, product):
    move_to_group(affiliate, default_group())
    funds_order(friend, product, "order-0000000001")
    assert rewards() == []


def test_no_reward_for_a_blocked_or_deleted_affiliate(affiliate, make_customer, product):
    first_friend = make_customer(referred_by=affiliate)
    User.update(blocked_at=utcnow()).where(User.id == affiliate.id).execute()
    funds_order(first_friend, product, "order-0000000001")
    User.update(blocked_at=None, deleted_at=utcnow()).where(User.id == affiliate.id).execute()
    funds_order(make_customer(referred_by=affiliate), product, "order-0000000002")
    assert rewards() == []


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("aff@example.com", "aff@example.com", True),
        ("Aff@Example.com", "aff+shop@example.com", True),
        ("aff+one@example.com", "AFF+two@example.com", True),
        ("aff@example.com", "aff@example.org", False),
        ("aff@example.com", "affi@example.com", False),
        ("+one@example.com", "+two@example.com", False),  # no name before the tag: the whole is the name
        ("aff@example.com", "", False),
    ],
)
def test_same_mailbox_ignores_case_and_plus_tags(first, second, same):
    assert same_mailbox(first, second) is same
    assert same_mailbox(second, first) is same


@pytest.mark.parametrize("email", ["aff+friend@example.com", "AFF+x@Example.COM"])
def test_no_reward_for_the_affiliates_own_plus_address(affiliate, make_customer, product, email):
    User.update(email="aff@example.com").where(User.id == affiliate.id).execute()
    myself = make_customer(email=email.lower(), first_name="Aff", referred_by=affiliate)
    funds_order(myself, product, "order-0000000001")
    assert rewards() == [] and balance(affiliate) == 0
    (row,) = referrals_with_rewards(affiliate)
    assert row.status == "no_reward"


def test_no_reward_for_a_referred_account_with_the_affiliates_phone(affiliate, make_customer, product):
    User.update(phone="+442079460000").where(User.id == affiliate.id).execute()
    twin = make_customer(email="someone.else@example.com", phone="+442079460000", referred_by=affiliate)
    funds_order(twin, product, "order-0000000001")
    assert rewards() == [] and balance(affiliate) == 0


def test_other_people_without_phones_still_earn_the_reward(affiliate, make_customer, product):
    assert affiliate.phone == ""
    other = make_customer(email="aff.friend@example.com", phone="", referred_by=affiliate)
    funds_order(other, product, "order-0000000001")
    assert balance(affiliate) == REWARD


# What the affiliate sees --------------------------------------------------------------------


def test_affiliate_sees_rewards_in_membership_and_funds_history(
    app, affiliate, friend, make_customer, product
):
    make_customer(first_name="Bo", last_name="Chen", email="bo.chen@example.com", referred_by=affiliate)
    funds_order(friend, product, "order-0000000001")
    browser = app.test_client()
    sign_in(browser, affiliate)

    page = browser.get("/account/membership").get_data(as_text=True)
    assert "People you referred" in page
    items = [" ".join(item.split()) for item in re.findall(r"<li>(.*?)</li>", page, re.DOTALL)]
    ana = next(item for item in items if item.startswith("Ana L."))
    assert re.search(r"reward paid €5\.00 on \w", ana), ana
    assert next(item for item in items if item.startswith("Bo C.")).endswith("no paid order yet")
    for private in ("ana.lopez@example.com", "Lopez", "bo.chen@example.com", "Chen"):
        assert private not in page
    assert 'href="/account/funds/history?category=reward"' in page

    history = browser.get("/account/funds/history?category=reward").get_data(as_text=True)
    assert "Referral reward: Ana L. paid their first order" in history
    assert ">Reward<" in history
    assert "lopez" not in history.lower()

    # Moved to a group without referral links: no link any more, the rewards still listed.
    move_to_group(affiliate, default_group())
    page = browser.get("/account/membership").get_data(as_text=True)
    assert "Your referral link" not in page
    assert "reward paid" in page


def test_referral_list_gives_each_persons_reward(affiliate, make_customer, product):
    people = [make_customer(referred_by=affiliate, first_name=f"P{n}", last_name="X") for n in range(6)]
    for number, person in enumerate(people[:3]):
        funds_order(person, product, f"order-000000000{number}")
    rows = referrals_with_rewards(affiliate)
    assert [row.status for row in rows].count("rewarded") == 3
    assert [row.status for row in rows].count("waiting") == 3
    assert all(row.reward == REWARD and row.rewarded_at is not None for row in rows if row.reward)
    assert all(isinstance(row.first_paid_at, datetime.datetime) for row in rows if row.reward)


# Two processes paying at once -------------------------------------------------------------------

context = multiprocessing.get_context("forkserver")
RACERS = 4


def _complete_worker(url, instance_path, payment_id, barrier, results):
    """A separate process with its own connection and app (the receipt email renders a template):
    wait for the others, then complete a payment."""
    try:
        app = create_app(app_config(url, instance_path))
        with app.app_context():
            db.connect(reuse_if_open=True)
            payment = OrderPayment.get_by_id(payment_id)
            barrier.wait(timeout=30)
            complete_card_payment(payment)
            db.close()
        results.put("ok")
    except Exception:
        results.put(traceback.format_exc())


def test_processes_paying_two_orders_at_once_pay_one_reward(app, friend, affiliate, product, tmp_path):
    """Two orders of one referred customer, each completed by two processes at the same moment."""
    _, first = card_order(friend, product, "order-0000000001")
    _, second = card_order(friend, product, "order-0000000002")
    payments = [first.id, second.id] * (RACERS // 2)
    barrier = context.Barrier(RACERS)
    results = context.Queue()
    processes = [
        context.Process(
            target=_complete_worker,
            args=(app.config["DATABASE_URL"], tmp_path / f"worker-{n}", payment_id, barrier, results),
        )
        for n, payment_id in enumerate(payments)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert outcomes == ["ok"] * RACERS
    assert Order.select().where((Order.user == friend) & (Order.status == PAID)).count() == 2
    assert len(rewards()) == 1
    assert balance(affiliate) == REWARD
    assert Entry.select().where(Entry.category == "reward").count() == 2  # one journal, two legs
    assert check_ledger() == []
