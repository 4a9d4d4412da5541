"""Payment reminders leave exactly once, with links that work (issue 7, "Sending exactly once").

Planning then sending (models/reminders/batches.py): twice in one window, a crash between
planning and sending or in the middle of sending, a window that closes first, an order paid or
a customer opting out meanwhile, the database's own partial UNIQUE indexes, several scheduler
processes at the same moment; every link of every segment's message followed signed out; the
opt-out page and RFC 8058 one-click; one real SMTP delivery with the unsubscribe headers; and
the owner's template text that must never run.

Times: Monday 23 November 2026, 10:05 shop time, is inside the default 10:00–11:00 window before
the 11:00 dispatch. Orders are written as rows (bank transfer, nothing held, so the ledger is
untouched): three hours old, cancelled automatically two days later.
"""

import datetime
import html
import itertools
import multiprocessing
import re
import traceback

import pytest
from itsdangerous import URLSafeSerializer
from peewee import IntegrityError

import models.reminders.batches as batches
from jobs.mail import deliver_due
from jobs.mail import SmtpConfig
from jobs.reminders import send_payment_reminders
from jobs.tick import DUE_WORK
from jobs.tick import tick
from models.base import connection
from models.base import db
from models.base import to_naive_utc
from models.base import utcnow
from models.base import write_transaction
from models.orders.cancelling import cancel_order
from models.orders.order import BANK
from models.orders.order import Order
from models.orders.order import OrderLine
from models.orders.order import PAID
from models.orders.order import PENDING_PAYMENT
from models.orders.paid import mark_paid
from models.orders.pay_link import pay_link
from models.orders.pay_link import pay_link_token
from models.reminders.batches import plan_batch
from models.reminders.batches import run_due
from models.reminders.batches import send_planned
from models.reminders.batches import WINDOW_CLOSED
from models.reminders.messages import CategoryParagraph
from models.reminders.messages import OPT_OUT_SALT
from models.reminders.messages import opt_out_token
from models.reminders.messages import save_template
from models.reminders.messages import set_opted_out
from models.reminders.messages import user_for_opt_out
from models.reminders.plan import LOYAL
from models.reminders.plan import NEW
from models.reminders.plan import plan
from models.reminders.plan import RETURNING
from models.reminders.records import CANCELLED
from models.reminders.records import PLANNED
from models.reminders.records import Reminder
from models.reminders.records import ReminderBatch
from models.reminders.records import SENT
from models.reminders.windows import open_window
from models.shop.outbox import OutboxMessage
from models.shop.outbox import SENT as MAIL_SENT
from models.shop.settings import load_settings
from models.storefront.catalog import Category
from models.storefront.catalog import Product
from models.users.user import User
from shop import create_app
from tests.conftest import app_config
from tests.conftest import csrf_token
from tests.conftest import TEST_ENVIRONMENT
from tests.mailserver import Recorder
from tests.mailserver import running_smtp

SECRET = "test-secret"  # tests/conftest.py app_config
_numbers = itertools.count(1)
URL = re.compile(r"https?://[^\s<>\"']+")
HREF = re.compile(r"""href="([^"]*)\"""")

BASE_URL = TEST_ENVIRONMENT["SHOP_BASE_URL"]  # every link in the shop's emails starts with it


# Building the data ----------------------------------------------------------------------------


def shop_time(day, hour, minute=0, month=11):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=load_settings().tz)


@pytest.fixture
def now(app):
    """Monday 23 November 2026, 10:05 shop time: inside the 10:00–11:00 window."""
    moment = shop_time(23, 10, 5)
    assert moment.weekday() == 0
    window = open_window(moment)
    assert window is not None and window.end == shop_time(23, 11)
    return moment


def naive(moment):
    return to_naive_utc(moment)


def make_unpaid(
    user,
    now,
    total=2500,
    age=datetime.timedelta(hours=3),
    product=None,
    cancel_after=datetime.timedelta(hours=51),
):
    """An order awaiting a bank transfer, placed `age` before `now`, auto-cancelled `cancel_after` later."""
    created = now - age
    n = next(_numbers)
    order = Order.create(
        user=user,
        number=f"R-{n:06d}",
        status=PENDING_PAYMENT,
        channel="shop",
        payment_method=BANK,
        currency=load_settings().currency,
        subtotal=total,
        total=total,
        bank_amount=total,
        idempotency_key=f"reminder-sending-{n}",
        created_at=naive(created),
        auto_cancel_at=naive(created + cancel_after),
        local_date=created.astimezone(load_settings().tz).date(),
    )
    if product is not None:
        OrderLine.create(
            order=order,
            product_id=product.id,
            name=product.name,
            unit_price=total,
            quantity=1,
            line_total=total,
        )
    return order


def make_paid(user, now, total=4000, days_ago=10):
    """An order the customer paid `days_ago` days before `now` (not today: no `paid_today`)."""
    moment = now - datetime.timedelta(days=days_ago)
    n = next(_numbers)
    return Order.create(
        user=user,
        number=f"P-{n:06d}",
        status=PAID,
        channel="shop",
        payment_method=BANK,
        currency=load_settings().currency,
        subtotal=total,
        total=total,
        bank_amount=total,
        idempotency_key=f"reminder-sending-{n}",
        created_at=naive(moment - datetime.timedelta(hours=2)),
        paid_at=naive(moment),
        local_date=moment.astimezone(load_settings().tz).date(),
    )


@pytest.fixture
def customer_with_order(make_customer, now):
    """customer_with_order(paid=0, **order fields) -> (customer, their unpaid order)."""

    def make(paid=0, **fields):
        customer = make_customer(first_name=f"Cust{next(_numbers)}")
        for days_ago in range(paid):
            make_paid(customer, now, days_ago=10 + days_ago)
        return customer, make_unpaid(customer, now, **fields)

    return make


def run(app, moment):
    with app.app_context():
        return run_due(moment)


def plan_only(app, moment):
    """The first half of a tick: the window's batch and its rows, then the process dies."""
    with app.app_context():
        return plan_batch(open_window(moment), moment)


def reminder_mail(to=None):
    query = OutboxMessage.select().where(OutboxMessage.kind.startswith("payment_reminder_"))
    if to is not None:
        query = query.where(OutboxMessage.to_address == to.email)
    return list(query.order_by(OutboxMessage.id))


def rows_of(order):
    return list(Reminder.select().where(Reminder.order == order.id).order_by(Reminder.id))


def one_row(order):
    rows = rows_of(order)
    assert len(rows) == 1, [(r.state, r.cancel_reason) for r in rows]
    return rows[0]


def public_path(url):
    """The path the test client asks for, from an absolute link to the shop."""
    base = BASE_URL
    assert url.startswith(base + "/"), f"{url} is not a link to the shop ({base})"
    return url[len(base) :]


# Exactly once ---------------------------------------------------------------------------------


def test_running_twice_in_one_window_sends_one_message_per_customer(app, customer_with_order, now):
    pairs = [customer_with_order(paid=paid) for paid in (0, 1, 2, 0)]

    assert run(app, now) == 4
    assert run(app, now) == 0
    assert run(app, now + datetime.timedelta(minutes=40)) == 0
    assert run(app, shop_time(23, 16, 5)) == 0  # the day's second window: one message a day

    for customer, order in pairs:
        (message,) = reminder_mail(customer)
        row = one_row(order)
        assert (row.state, row.reminder_number, row.outbox_message_id) == (SENT, 1, message.id)
        assert order.number in message.subject
    assert ReminderBatch.select().where(ReminderBatch.local_date == now.date()).count() == 2
    assert len(reminder_mail()) == 4


def test_an_order_that_becomes_due_during_the_window_joins_its_batch(app, make_customer, now):
    customer = make_customer()
    order = make_unpaid(customer, now, age=datetime.timedelta(minutes=30))  # too recent at 10:05
    assert run(app, now) == 0
    later = now + datetime.timedelta(minutes=35)  # an hour old now, the window still open
    with app.app_context():
        promised = [item.order_id for item in plan(later).reminders]
    assert promised == [order.id]
    assert run(app, later) == 1  # what the preview promised is what goes out
    assert ReminderBatch.select().count() == 1
    assert [row.state for row in rows_of(order)] == [SENT]


def test_the_schedulers_minute_tick_sends_reminders(app, customer_with_order, now):

    assert send_payment_reminders in DUE_WORK
    _customer, order = customer_with_order()
    with app.app_context():
        tick(now)
    assert [row.state for row in rows_of(order)] == [SENT]


def test_a_crash_between_planning_and_sending_sends_each_planned_reminder_once(app, customer_with_order, now):
    pairs = [customer_with_order(paid=paid) for paid in (0, 1, 2)]
    batch, created = plan_only(app, now)
    assert created
    assert [r.state for r in Reminder.select()] == [PLANNED] * 3
    assert reminder_mail() == []

    later = now + datetime.timedelta(minutes=30)  # a fresh process, still inside the window
    assert run(app, later) == 3
    assert run(app, later + datetime.timedelta(minutes=5)) == 0

    assert ReminderBatch.select().count() == 1
    assert ReminderBatch.get_by_id(batch.id).finished_at is not None
    for customer, order in pairs:
        assert len(reminder_mail(customer)) == 1
        assert one_row(order).state == SENT


def test_a_crash_in_the_middle_of_sending_leaves_the_rest_for_the_next_tick(
    app, customer_with_order, now, monkeypatch
):
    """A send is one transaction: the row that was being sent when the process died is still
    planned (and nothing of it is in the outbox); the ones sent before are not sent again."""

    pairs = [customer_with_order() for _ in range(3)]
    real_send_text = batches.send_text
    calls = []

    def dies_on_the_second(*args, **kwargs):
        calls.append(args[0])
        message = real_send_text(*args, **kwargs)
        if len(calls) == 2:
            raise SystemExit("killed while sending")  # after the outbox row was written
        return message

    monkeypatch.setattr(batches, "send_text", dies_on_the_second)
    with pytest.raises(SystemExit):
        run(app, now)
    monkeypatch.undo()

    assert len(reminder_mail()) == 1
    assert sorted(r.state for r in Reminder.select()) == [PLANNED, PLANNED, SENT]

    assert run(app, now + datetime.timedelta(minutes=10)) == 2
    for customer, order in pairs:
        assert len(reminder_mail(customer)) == 1
        assert one_row(order).state == SENT


def test_a_big_batch_sent_over_several_ticks_sends_each_reminder_once(app, customer_with_order, now):
    pairs = [customer_with_order(paid=n % 3) for n in range(5)]
    plan_only(app, now)
    with app.app_context():
        sent = [send_planned(now + datetime.timedelta(minutes=minute), limit=2) for minute in (1, 2, 3, 4)]
    assert sent == [2, 2, 1, 0]
    for customer, order in pairs:
        assert len(reminder_mail(customer)) == 1 and one_row(order).state == SENT
    assert ReminderBatch.get().finished_at is not None


@pytest.mark.parametrize("hour, minute", [(11, 0), (13, 30)])
def test_a_planned_reminder_whose_window_closed_is_cancelled_not_sent(
    app, customer_with_order, now, hour, minute
):
    _, order = customer_with_order()
    plan_only(app, now)

    assert run(app, shop_time(23, hour, minute)) == 0

    row = one_row(order)
    assert (row.state, row.cancel_reason, row.outbox_message_id) == (CANCELLED, WINDOW_CLOSED, None)
    assert reminder_mail() == []


def test_a_planned_reminder_still_goes_in_the_last_minute_of_its_window(app, customer_with_order, now):
    customer, order = customer_with_order()
    plan_only(app, now)
    assert run(app, shop_time(23, 10, 59)) == 1
    assert one_row(order).state == SENT and len(reminder_mail(customer)) == 1


def test_a_reminder_cancelled_because_its_window_closed_does_not_block_the_next_window(
    app, customer_with_order, now
):
    """Planned at 10:05, the scheduler down until 16:05: the 10:00 reminder is cancelled (never
    sent, and cancelled rows don't count), so the customer gets the 16:00 window's reminder."""
    customer, order = customer_with_order()
    plan_only(app, now)

    run(app, shop_time(23, 16, 5))

    states = [(r.state, r.cancel_reason) for r in rows_of(order)]
    assert states[0] == (CANCELLED, WINDOW_CLOSED)
    assert len(reminder_mail(customer)) == 1, states  # actual: 0, the 16:00 plan says daily_limit


def test_a_reminder_never_sent_does_not_use_up_the_orders_reminders(app, make_customer, now):
    customer = make_customer()
    order = make_unpaid(customer, now, cancel_after=datetime.timedelta(days=5))
    plan_only(app, now)  # Monday: planned, never sent

    run(app, now + datetime.timedelta(days=1))  # Tuesday 10:05: cancels Monday's row, sends one
    run(app, now + datetime.timedelta(days=1, hours=6))  # Tuesday 16:05: one a day
    assert len(reminder_mail(customer)) == 1
    wednesday = now + datetime.timedelta(days=2)
    with app.app_context():
        assert [r.order_id for r in plan(wednesday).reminders] == [order.id]  # the preview promises one
    run(app, wednesday)

    # actual: still 1; Tuesday's reminder was numbered 2, so Wednesday's row (number 2 again) was
    # dropped by the insert's ON CONFLICT IGNORE
    assert len(reminder_mail(customer)) == 2
    assert [r.reminder_number for r in rows_of(order) if r.state == SENT] == [1, 2]


def test_paying_between_planning_and_sending_cancels_the_reminder(app, customer_with_order, now):
    customer, order = customer_with_order()
    other, other_order = customer_with_order()
    plan_only(app, now)
    with write_transaction():
        assert mark_paid(
            order, None, naive(now + datetime.timedelta(minutes=3)), "bank transfer", receipt=False
        )  # as receive_bank_transfer pays

    assert run(app, now + datetime.timedelta(minutes=5)) == 1

    row = one_row(order)
    assert (row.state, row.cancel_reason, row.outbox_message_id) == (CANCELLED, "paid", None)
    assert reminder_mail(customer) == []
    assert one_row(other_order).state == SENT and len(reminder_mail(other)) == 1


def test_opting_out_between_planning_and_sending_cancels_the_reminder(app, customer_with_order, now):
    customer, order = customer_with_order(paid=1)
    plan_only(app, now)
    set_opted_out(customer, True)

    assert run(app, now + datetime.timedelta(minutes=5)) == 0

    row = one_row(order)
    assert (row.state, row.cancel_reason) == (CANCELLED, "opted_out")
    assert reminder_mail(customer) == []


def test_an_order_cancelled_between_planning_and_sending_is_recorded_as_cancelled(
    app, customer_with_order, now
):
    customer, order = customer_with_order()
    plan_only(app, now)
    with app.app_context():
        assert cancel_order(order, None, "customer changed their mind", notify=False)

    assert run(app, now + datetime.timedelta(minutes=5)) == 0

    row = one_row(order)
    assert reminder_mail(customer) == []
    assert (row.state, row.cancel_reason) == (CANCELLED, "cancelled")


# The database's own guarantees ----------------------------------------------------------------


@pytest.fixture
def batch(app, now):
    return ReminderBatch.create(
        window_key="dispatch:2026-11-23T11:00",
        mode="dispatch",
        window_start=naive(shop_time(23, 10)),
        window_end=naive(shop_time(23, 11)),
        dispatch_at=naive(shop_time(23, 11)),
        local_date=now.date(),
        planned_at=naive(now),
    )


def insert_row(batch, order, number=1, day=None, state=PLANNED):
    return Reminder.create(
        batch=batch,
        user=order.user_id,
        order=order,
        segment=NEW,
        template=NEW,
        reminder_number=number,
        local_date=day or batch.local_date,
        planned_at=batch.planned_at,
        state=state,
    )


def refused(batch, order, **fields):
    with pytest.raises(IntegrityError), db.atomic():
        insert_row(batch, order, **fields)


@pytest.mark.parametrize("first_state", [PLANNED, SENT])
def test_a_second_reminder_of_the_same_number_for_an_order_is_refused(
    batch, customer_with_order, first_state
):
    _, order = customer_with_order()
    insert_row(batch, order, number=1, state=first_state)
    tomorrow = batch.local_date + datetime.timedelta(days=1)

    refused(batch, order, number=1, day=tomorrow)
    refused(batch, order, number=1, day=tomorrow, state=SENT)
    insert_row(batch, order, number=2, day=tomorrow)  # the next number is another reminder
    assert len(rows_of(order)) == 2


@pytest.mark.parametrize("first_state", [PLANNED, SENT])
def test_a_second_message_to_a_customer_on_one_shop_day_is_refused(
    batch, customer_with_order, now, first_state
):
    customer, order = customer_with_order()
    second_order = make_unpaid(customer, now)
    insert_row(batch, order, state=first_state)

    refused(batch, second_order)
    refused(batch, second_order, number=2, state=SENT)
    insert_row(batch, second_order, day=batch.local_date + datetime.timedelta(days=1))
    _, someone_else = customer_with_order()
    insert_row(batch, someone_else)  # the same day, another customer
    assert Reminder.select().count() == 3


def test_a_cancelled_reminder_blocks_nothing(batch, customer_with_order):
    _, order = customer_with_order()
    first = insert_row(batch, order, state=CANCELLED)
    insert_row(batch, order, state=CANCELLED)  # the same order, number, customer and day
    insert_row(batch, order, state=PLANNED)  # still free for one live reminder…
    refused(batch, order)  # …and one only
    # nor can a cancelled row come back to life next to the live one
    with pytest.raises(IntegrityError), db.atomic():
        Reminder.update(state=SENT).where(Reminder.id == first.id).execute()
    assert sorted(r.state for r in rows_of(order)) == [CANCELLED, CANCELLED, PLANNED]


# Several schedulers at the same moment --------------------------------------------------------

context = multiprocessing.get_context("forkserver")
# This module (and with it the app's models, tests.conftest, pytest…) is imported once, in the
# fork server, so a scheduler process starts in moments. A superset of tests/funds/test_ledger_race.py's
# preload.
context.set_forkserver_preload(["tests.reminders.test_reminder_sending"])
SCHEDULERS = 4
CUSTOMERS = 20


def _scheduler(config, moment_iso, barrier, results):
    """A separate process with its own app and connection: wait for the others, then tick."""
    outcome = {"sent": 0, "errors": []}
    try:
        app = create_app(config)
        with app.app_context(), connection():
            barrier.wait(timeout=60)
            outcome["sent"] = run_due(datetime.datetime.fromisoformat(moment_iso))
    except Exception:  # report it rather than die silently
        outcome["errors"].append(traceback.format_exc())
    results.put(outcome)


@pytest.mark.parametrize("planned_first", [False, True], ids=["racing-to-plan", "racing-to-send"])
def test_schedulers_running_at_the_same_moment_send_one_message_per_customer(
    app, customer_with_order, now, tmp_path, planned_first
):
    pairs = [customer_with_order(paid=n % 3) for n in range(CUSTOMERS)]
    if planned_first:
        plan_only(app, now)
    config = app_config(app.config["DATABASE_URL"], tmp_path / "workers")
    barrier = context.Barrier(SCHEDULERS)
    results = context.Queue()
    processes = [
        context.Process(target=_scheduler, args=(config, now.isoformat(), barrier, results))
        for _ in range(SCHEDULERS)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0

    assert [o["errors"] for o in outcomes if o["errors"]] == []
    assert sum(o["sent"] for o in outcomes) == CUSTOMERS
    messages = reminder_mail()
    assert len(messages) == CUSTOMERS
    assert sorted(m.to_address for m in messages) == sorted(c.email for c, _ in pairs)
    assert ReminderBatch.select().count() == 1
    rows = list(Reminder.select())
    assert len(rows) == CUSTOMERS and {r.state for r in rows} == {SENT}
    assert sorted(r.order_id for r in rows) == sorted(o.id for _, o in pairs)
    assert sorted(r.outbox_message_id for r in rows) == sorted(m.id for m in messages)


# Every link of every message ------------------------------------------------------------------


@pytest.fixture
def tea(app):
    category = Category.create(name="Tea", slug="tea")
    base = BASE_URL
    CategoryParagraph.create(
        category=category, text=f"New to loose tea? Our brewing guide is here:\n{base}/c/tea"
    )
    return Product.create(name="Green tea", slug="green-tea", price=2500, stock=5, category=category)


def links_in(message):
    """(every http(s) URL of the text and HTML parts, the HTML's other hrefs)."""
    urls = set(URL.findall(message.text_body))
    hrefs = {html.unescape(h) for h in HREF.findall(message.html_body)}
    urls |= {html.unescape(u) for u in URL.findall(message.html_body)}
    return urls, {h for h in hrefs if not h.startswith(("http://", "https://"))}


def test_every_link_of_every_segments_message_answers_signed_out(app, customer_with_order, now, tea):
    segments = {NEW: 0, RETURNING: 1, LOYAL: 2}
    orders = {segment: customer_with_order(paid=paid, product=tea) for segment, paid in segments.items()}

    assert run(app, now) == 3

    for segment, (customer, order) in orders.items():
        (message,) = reminder_mail(customer)
        assert message.kind == f"payment_reminder_{segment}"
        assert one_row(order).segment == segment
        urls, others = links_in(message)
        assert others == {f"mailto:{load_settings().contact_email}"}
        with app.app_context():
            pay_url = pay_link(order)
            unsubscribe_url = f"{BASE_URL}/reminders/unsubscribe/{opt_out_token(customer.id)}"
        brewing_url = f"{BASE_URL}/c/tea"
        assert urls == {pay_url, unsubscribe_url, brewing_url}, segment
        assert "brewing guide" in message.text_body and "brewing guide" in message.html_body
        for url in urls:
            fresh = app.test_client()  # signed out, no cookies
            response = fresh.get(public_path(url), follow_redirects=True)
            assert response.status_code == 200, (segment, url)
            if url == pay_url:
                assert [r.status_code for r in response.history] == [302]
                assert response.request.path == f"/account/orders/{order.id}/pay"
                page = html.unescape(response.get_data(as_text=True))
                assert f"Pay order {order.number}" in page
            elif url == unsubscribe_url:
                assert "Stop payment reminders" in response.get_data(as_text=True)

    # Following the links (as a mail scanner does) changed nothing.
    for customer, order in orders.values():
        assert User.get_by_id(customer.id).reminders_opted_out_at is None
        assert Order.get_by_id(order.id).status == PENDING_PAYMENT


def test_links_at_the_end_of_a_sentence_still_answer(app, customer_with_order, now, tea):
    """The owner writes sentences: "Pay here: {pay_url}." and "…our guide (http://…/c/tea)."."""
    customer, order = customer_with_order(product=tea)
    CategoryParagraph.update(text=f"New to loose tea? Read our guide ({BASE_URL}/c/tea).").execute()
    with app.app_context():
        save_template(NEW, "Order {order_number}", "Hello {first_name}, pay here: {pay_url}.")
    assert run(app, now) == 1

    (message,) = reminder_mail(customer)
    links = [html.unescape(h) for h in HREF.findall(message.html_body) if h.startswith("http")]
    assert len(links) == 3  # pay, guide, opt-out
    answers = {
        url: app.test_client().get(public_path(url), follow_redirects=True).status_code for url in links
    }
    # actual: 404 for the pay link ("…/link/<token>.") and the guide ("…/c/tea).")
    assert set(answers.values()) == {200}, answers


def test_the_pay_link_of_a_reminder_still_answers_once_paid_or_cancelled(app, customer_with_order, now):
    (paid_customer, paid_order), (gone_customer, gone_order) = customer_with_order(), customer_with_order()
    assert run(app, now) == 2
    links = {}
    for customer, order in ((paid_customer, paid_order), (gone_customer, gone_order)):
        (message,) = reminder_mail(customer)
        with app.app_context():
            links[order.id] = pay_link(order)
        assert links[order.id] in message.text_body

    with write_transaction():
        assert mark_paid(
            paid_order, None, naive(now + datetime.timedelta(minutes=20)), "bank transfer", receipt=False
        )  # as receive_bank_transfer pays
    with app.app_context():
        assert cancel_order(gone_order, None, "Not paid within 72 hours")

    response = app.test_client().get(public_path(links[paid_order.id]), follow_redirects=True)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert f"Order {paid_order.number} is paid" in page and "nothing more to pay" in page

    response = app.test_client().get(public_path(links[gone_order.id]), follow_redirects=True)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert f"Order {gone_order.number} was cancelled" in page and "Pay €" not in page


# The opt-out page -----------------------------------------------------------------------------


def unsubscribe_path(app, user):
    with app.app_context():
        return f"/reminders/unsubscribe/{opt_out_token(user.id)}"


def opted_out(user):
    return User.get_by_id(user.id).reminders_opted_out_at is not None


def post_forms(page, path):
    """The forms of `page` that post to `path`, and their buttons."""
    forms = re.findall(r'<form[^>]*method="post"[^>]*action="([^"]*)"[^>]*>(.*?)</form>', page, re.S)
    return [
        (action, re.findall(r"<button[^>]*>(.*?)</button>", body, re.S), body)
        for action, body in forms
        if action == path
    ]


def test_the_opt_out_page_shows_one_button_and_changes_nothing(app, client, customer):
    path = unsubscribe_path(app, customer)
    for _ in range(3):  # mail scanners open links, sometimes more than once
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    ((_, buttons, _),) = post_forms(page, path)
    assert [b.strip() for b in buttons] == ["Stop payment reminders"]
    assert customer.email in page
    assert User.get_by_id(customer.id).reminders_opted_out_at is None


def test_the_button_opts_out_with_the_pages_csrf_token_or_without_one(app, make_customer):
    with_token, without = make_customer(), make_customer()
    browser = app.test_client()
    path = unsubscribe_path(app, with_token)
    response = browser.post(path, data={"csrf_token": csrf_token(browser, path)})
    assert response.status_code == 200
    assert "Done: no more payment reminders" in response.get_data(as_text=True)
    assert opted_out(with_token)

    response = app.test_client().post(unsubscribe_path(app, without))
    assert response.status_code == 200 and opted_out(without)


def test_one_click_unsubscribe_from_a_mail_client(app, make_customer, customer_with_order):
    """RFC 8058: the mail provider POSTs `List-Unsubscribe=One-Click`, with no cookie of ours."""
    customer = make_customer()
    bystander, _ = customer_with_order()
    mail_client = app.test_client()
    response = mail_client.post(
        unsubscribe_path(app, customer),
        data=b"List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        headers={"Origin": "https://mail.example.net"},
    )
    assert response.status_code == 200
    assert opted_out(customer)
    assert not opted_out(bystander)
    # a second click (clients retry) is still fine
    assert (
        mail_client.post(unsubscribe_path(app, customer), data={"List-Unsubscribe": "One-Click"}).status_code
        == 200
    )
    assert opted_out(customer)


def test_a_tampered_or_foreign_token_is_not_found(app, client, make_customer, customer_with_order):
    customer = make_customer()
    gone = make_customer()
    _, order = customer_with_order()
    with app.app_context():
        token = opt_out_token(customer.id)
        gone_token = opt_out_token(gone.id)
        pay_token = pay_link_token(order)
    User.update(deleted_at=utcnow()).where(User.id == gone.id).execute()
    tampered = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature changed
        "M" + token[1:] if token[0] != "M" else "N" + token[1:],  # payload changed
        token.split(".")[0],  # no signature
        URLSafeSerializer(SECRET, salt="something-else").dumps(customer.id),
        URLSafeSerializer("another-secret", salt=OPT_OUT_SALT).dumps(customer.id),
        URLSafeSerializer(SECRET, salt=OPT_OUT_SALT).dumps(str(customer.id)),
        pay_token,  # a pay link's token is no opt-out token
        gone_token,  # a deleted account
        "x" * 300,
    ]
    for bad in tampered:
        assert client.get(f"/reminders/unsubscribe/{bad}").status_code == 404, bad
        assert client.post(f"/reminders/unsubscribe/{bad}").status_code == 404, bad
    assert client.get(f"/reminders/unsubscribe/{token}").status_code == 200  # the real one works
    assert User.select().where(User.reminders_opted_out_at.is_null(False)).count() == 0


def test_turning_reminders_back_on(app, client, customer):
    path = unsubscribe_path(app, customer)
    client.post(path)
    assert opted_out(customer)

    page = client.get(path).get_data(as_text=True)
    assert "Payment reminders are off" in page
    ((_, buttons, body),) = post_forms(page, path)
    assert [b.strip() for b in buttons] == ["Turn payment reminders back on"]
    assert re.search(r'<input type="hidden" name="reminders" value="on">', body)
    assert opted_out(customer)  # looking changed nothing

    response = client.post(path, data={"reminders": "on"})
    assert response.status_code == 200
    assert "Payment reminders are on again" in response.get_data(as_text=True)
    assert not opted_out(customer)


# One real SMTP delivery -----------------------------------------------------------------------


def test_a_reminder_delivered_over_smtp_carries_the_one_click_unsubscribe_headers(
    app, customer_with_order, now
):
    customer, order = customer_with_order(paid=1)
    assert run(app, now) == 1
    recorder = Recorder()
    OutboxMessage.update(next_attempt_at=naive(now)).execute()  # queued at the tick's time, not today's
    delivery_time = now + datetime.timedelta(minutes=1)
    with running_smtp(recorder) as port:
        assert deliver_due(delivery_time, SmtpConfig(host="127.0.0.1", port=port, security="none")) == 1
        (received,) = recorder.wait_for(1)

    (row,) = reminder_mail(customer)
    assert row.state == MAIL_SENT
    assert received.rcpt_tos == [customer.email]
    message = received.message
    assert message["To"] == customer.email
    assert order.number in message["Subject"]
    # On the wire the URL is as it is (a folded, RFC 2047-encoded one is no one-click unsubscribe).
    raw_header = re.search(rb"^List-Unsubscribe: (.*)$", received.raw, re.MULTILINE).group(1).strip()
    assert raw_header.startswith(b"<http") and b"=?" not in raw_header, raw_header
    unsubscribe = str(message["List-Unsubscribe"]).strip()
    match = re.fullmatch(r"<(https?://[^>]+/reminders/unsubscribe/([^>/]+))>", unsubscribe)
    assert match, unsubscribe
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    url, token = match.groups()
    assert url.startswith(BASE_URL + "/")
    with app.app_context():
        assert user_for_opt_out(token).id == customer.id

    text = message.get_body(("plain",)).get_content()
    html_part = message.get_body(("html",)).get_content()
    assert message.get_content_type() == "multipart/alternative"
    assert order.number in text and order.number in html_part
    assert url in text and html.escape(url) in html_part

    # and the header's one-click works as a mail provider would use it
    response = app.test_client().post(public_path(url), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and opted_out(customer)


def test_a_reminder_that_could_not_go_before_its_dispatch_is_never_delivered(app, customer_with_order, now):
    customer, _order = customer_with_order()
    assert run(app, now) == 1
    OutboxMessage.update(next_attempt_at=naive(now)).execute()
    recorder = Recorder()
    with running_smtp(recorder) as port:
        smtp = SmtpConfig(host="127.0.0.1", port=port, security="none")
        # Mail was down until after the 11:00 dispatch: "pay before 11:00 today" is no longer true.
        assert deliver_due(shop_time(23, 11, 0), smtp) == 0
    assert recorder.received == []
    (row,) = reminder_mail(customer)
    assert row.state == "failed" and "no longer true" in row.last_error


# The owner's template text never runs ---------------------------------------------------------

HOSTILE_BODY = (
    "Class: {order_number.__class__} | index: {0} | attr: {first_name.upper} | "
    "dict: {shop_name[0]} | braces: {{order_number}} | jinja: {{ first_name }} {% for x in y %}loop{% endfor %} "
    "| <script>alert('x')</script> | number: {order_number}\n\nPay here: {pay_url}"
)


def test_the_owners_template_is_filled_never_run(app, customer_with_order, now):
    customer, order = customer_with_order()
    with app.app_context():
        save_template(NEW, "<script>{order_number.__class__}</script> {{x}} {order_number}", HOSTILE_BODY)
    assert run(app, now) == 1

    (message,) = reminder_mail(customer)
    text = message.text_body
    assert "Class: {order_number.__class__} |" in text
    assert (
        "index: {0} |" in text and "attr: {first_name.upper} |" in text and "dict: {shop_name[0]} |" in text
    )
    assert "braces: {order_number} |" in text  # {{ and }} are literal braces, not a placeholder
    assert "jinja: { first_name } {% for x in y %}loop{% endfor %} |" in text
    assert "<script>alert('x')</script>" in text
    assert f"number: {order.number}" in text
    for leak in ("<class", "str object", "built-in method", "test-secret"):
        assert leak not in text and leak not in message.subject and leak not in message.html_body
    assert message.subject.startswith(f"<script>{{order_number.__class__}}</script> {{x}} {order.number}")

    page = message.html_body
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "{% for x in y %}loop{% endfor %}" in page
    assert f"number: {order.number}" in page
    with app.app_context():
        assert f'<a href="{pay_link(order)}" class="link"' in page and f"Pay order {order.number}</a>" in page


def test_a_customers_own_name_is_text_too(app, make_customer, now):
    """Values are substituted once: a name that looks like a placeholder or markup stays as written."""
    customer = make_customer(first_name="{pay_url}<b>Bo</b>{{")
    order = make_unpaid(customer, now)
    assert run(app, now) == 1
    (message,) = reminder_mail(customer)
    assert "Hello {pay_url}<b>Bo</b>{{," in message.text_body
    assert "Hello {pay_url}&lt;b&gt;Bo&lt;/b&gt;{{," in message.html_body
    with app.app_context():
        assert message.text_body.count(pay_link(order)) == 1


def test_a_customers_name_or_groups_text_never_becomes_a_link(app, make_customer, now):
    """Issue 19, 5: only the shop's own links are links; a stranger's "name" is shown unlinkable."""
    customer = make_customer(first_name="Win 500 EUR: https://evil.example/claim")
    order = make_unpaid(customer, now)
    with app.app_context():
        save_template(NEW, "{first_name}, pay {order_number}", "Hello {first_name},\n\nPay here: {pay_url}")
    assert run(app, now) == 1
    (message,) = reminder_mail(customer)
    for part in (message.subject, message.text_body, message.html_body):
        assert "evil.example" not in part
    assert "Hello Win 500 EUR: https[:]//evil[.]example/claim," in message.text_body
    links = [link for link in HREF.findall(message.html_body) if not link.startswith("mailto:")]
    assert links and all(link.startswith("http://shop.test/") for link in links)
    with app.app_context():
        assert html.unescape(links[0]) == pay_link(order)
