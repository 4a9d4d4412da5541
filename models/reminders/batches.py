"""Sending reminders exactly once: a batch per window, a row per reminder, a check before each send.

1. `plan_batch(window, now)`: the first tick inside a window plans it. The plan
   is read without a lock, then the batch row and one small unrendered row per
   reminder are written in one transaction. The batch's UNIQUE window key means
   a second scheduler (or a restart) never plans the window again; the partial
   UNIQUE indexes on the rows (one per order and reminder number, one per
   customer and shop day) make a duplicate reminder impossible whatever the
   code above them does.
2. `send_planned(now)`: each planned row is checked again (still unpaid, still
   eligible?) and, in one transaction, either cancelled with the reason or
   marked sent, rendered and queued in the outbox. The row moves from
   `planned` with a conditional update, so of two runs only one sends it; a
   crash rolls the whole step back, so the row is still `planned` for the next
   tick. A row whose window closed before it was sent is cancelled: its
   "pay before 11:00" would no longer be true.
3. SMTP delivery is the outbox's (jobs/mail.py): a message whose delivery
   outcome is unknown is never retried blindly; it is listed for the owner.
"""

import datetime
import logging

from peewee import Case
from peewee import fn
from peewee import IntegrityError

from models.base import as_aware_utc
from models.base import db
from models.base import to_naive_utc
from models.base import write_transaction
from models.orders.card_payments import refresh_card_payment
from models.orders.order import CANCELLED as ORDER_CANCELLED
from models.orders.order import Order
from models.orders.order import OrderPayment
from models.reminders.messages import compose
from models.reminders.messages import item_pictures
from models.reminders.messages import reminder_language
from models.reminders.messages import reminder_links
from models.reminders.messages import unsubscribe_headers
from models.reminders.plan import plan
from models.reminders.records import CANCELLED
from models.reminders.records import HELD_OUT
from models.reminders.records import PLANNED
from models.reminders.records import Reminder
from models.reminders.records import ReminderBatch
from models.reminders.records import SENT
from models.reminders.settings import load_reminder_settings
from models.reminders.windows import open_window
from models.reminders.windows import Window
from models.shop.language import in_language
from models.shop.mail import send_text
from payments import PaymentError
from payments import PENDING

log = logging.getLogger("shop.jobs")

WINDOW_CLOSED = "window_closed"
RECOVERY_WINDOW = datetime.timedelta(hours=48)


def run_due(now):
    """The tick's work: plan the open window if it isn't yet, then send what is planned."""
    cancel_closed_windows(now)  # before planning: a row never sent must not count as sent
    settings = load_reminder_settings()
    if settings.enabled:
        window = open_window(now, settings)
        if window is not None:
            plan_batch(window, now)
    return send_planned(now)


def cancel_closed_windows(now):
    """Planned rows whose window closed before they were sent: their "pay before 11:00" is
    no longer true, so they are cancelled (and free the order's number and the customer's day)."""
    closed = ReminderBatch.select(ReminderBatch.id).where(ReminderBatch.window_end <= to_naive_utc(now))
    with write_transaction():
        (
            Reminder.update(state=CANCELLED, cancel_reason=WINDOW_CLOSED, decided_at=to_naive_utc(now))
            .where((Reminder.state == PLANNED) & Reminder.batch.in_(closed))
            .execute()
        )


def plan_batch(window, now):
    """Plan the window's batch: created on the window's first tick; on later ticks the orders
    that became due since (old enough, a card payment abandoned) join it, so the preview and
    what is sent agree. Returns (batch, created)."""
    existing = ReminderBatch.get_or_none(ReminderBatch.window_key == window.key)
    if existing is not None:
        the_plan = plan(now, window=window, batch_id=existing.id)
        with write_transaction():
            insert_reminders(existing.id, the_plan.reminders, the_plan.at.date(), to_naive_utc(now))
        return existing, False
    the_plan = plan(now, window=window)
    moment = to_naive_utc(now)
    try:
        with write_transaction():
            batch = ReminderBatch.create(
                window_key=window.key,
                mode=load_reminder_settings().mode,
                window_start=to_naive_utc(window.start),
                window_end=to_naive_utc(window.end),
                dispatch_at=to_naive_utc(window.dispatch_at) if window.dispatch_at else None,
                local_date=the_plan.at.date(),
                planned_at=moment,
                excluded=len(the_plan.excluded),
            )
            insert_reminders(batch.id, the_plan.reminders, the_plan.at.date(), moment)
    except IntegrityError:
        # Another scheduler planned this window a moment ago (the UNIQUE window key).
        return ReminderBatch.get(ReminderBatch.window_key == window.key), False
    return batch, True


# ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike): a row the partial UNIQUE indexes
# refuse (a twin scheduler's) is simply not added. Through the driver with executemany: a
# batch can have tens of thousands of rows, and building each through the ORM costs seconds.
INSERT_REMINDER = (
    'INSERT INTO "reminder" (batch_id, user_id, order_id, segment, template, reminder_number, '
    "local_date, state, cancel_reason, planned_at, arm, variant) VALUES ({}) ON CONFLICT DO NOTHING"
)


def insert_reminders(batch_id, reminders, local_date, planned_at):
    """The plan's reminders as rows, each with its group and wording (recorded before sending)."""
    sql = INSERT_REMINDER.format(", ".join([db.param] * 12))
    day, moment = str(local_date), str(planned_at)  # as SQLite stores them; PostgreSQL parses them
    rows = [
        (
            batch_id,
            r.customer_id,
            r.order_id,
            r.segment,
            r.template,
            r.reminder_number,
            day,
            PLANNED,
            "",
            moment,
            r.arm,
            r.variant,
        )
        for r in reminders
    ]
    if rows:
        db.cursor().executemany(sql, rows)


# Each row is checked with a few queries of its own; a big batch goes over a few ticks so
# the tick's other work (auto-cancel, refunds) never waits long. The outbox sends ~600 a minute.
SEND_PER_TICK = 500


def send_planned(now, limit=SEND_PER_TICK):
    """Check and send (or cancel) planned reminders, oldest first; returns how many were queued."""
    sent = 0
    planned = (
        Reminder.select(Reminder.id, ReminderBatch.window_end)
        .join(ReminderBatch)
        .where(Reminder.state == PLANNED)
        .order_by(Reminder.id)
        .limit(limit)
        .tuples()
    )
    cancel_closed_windows(now)
    for reminder_id, window_end in list(planned):
        if as_aware_utc(window_end) <= now:
            continue  # its window closed while this run went through the batch: the next run cancels it
        try:
            ask_provider_about(Reminder.get_by_id(reminder_id).order_id)
            sent += send_one(reminder_id, now)
        except Exception:  # one bad row (a provider timeout, a bug) must not hold up the batch
            log.exception("payment reminder %s not sent; it is tried again on the next tick", reminder_id)
    finish_batches(now)
    return sent


def ask_provider_about(order_id):
    """A card payment the customer just completed shows as paid before we remind them."""
    for payment in OrderPayment.select().where(
        (OrderPayment.order == order_id)
        & (OrderPayment.state == PENDING)
        & OrderPayment.provider_payment_id.is_null(False)
    ):
        try:
            refresh_card_payment(payment)
        except PaymentError:
            pass  # unknown stays unknown: the plan's payment_confirming rule decides


def send_one(reminder_id, now):
    with write_transaction():
        reminder = Reminder.get_or_none((Reminder.id == reminder_id) & (Reminder.state == PLANNED))
        if reminder is None:
            return 0  # another run sent or cancelled it
        reason = still_due(reminder, now)
        if reason:
            _decide(reminder_id, CANCELLED, now, reason)
            return 0
        if reminder.arm == HELD_OUT:
            # The control group: checked like the others up to this very moment, never sent.
            _decide(reminder_id, HELD_OUT, now)
            return 0
        if not _decide(reminder_id, SENT, now):
            return 0
        # Written in the order's language (the default wording, the sentences and amounts the
        # placeholders give, the links' words), whatever language the jobs process runs in.
        language = reminder_language(reminder.order)
        with in_language(language):
            subject, text = compose(reminder.order, reminder.segment, now, variant=reminder.variant)
            links = reminder_links(reminder.order)
        message = send_text(
            reminder.user.email,
            f"payment_reminder_{reminder.segment}",
            subject,
            text,
            headers=unsubscribe_headers(reminder.user_id),
            links=links,
            pictures=item_pictures(reminder.order),
            expires_at=reminder.batch.window_end,  # its "pay before" is the window's dispatch
            language=language,
        )
        Reminder.update(outbox_message=message.id).where(Reminder.id == reminder_id).execute()
    return 1


def still_due(reminder, now):
    """Why the planned reminder must not go now (a REASONS key, or "paid"), or None.

    The plan's own rules, for this one customer, with this row left out.
    """
    batch = reminder.batch
    window = Window(batch.window_key, as_aware_utc(batch.window_start), as_aware_utc(batch.window_end), None)
    fresh = plan(now, window=window, batch_id=batch.id, user_id=reminder.user_id, ignore_reminder=reminder.id)
    if any(item.order_id == reminder.order_id for item in fresh.reminders):
        return None
    for item in fresh.excluded:
        if item.order_id == reminder.order_id:
            return item.reason
    return "cancelled" if Order.get_by_id(reminder.order_id).status == ORDER_CANCELLED else "paid"


def _decide(reminder_id, state, now, reason=""):
    changed = (
        Reminder.update(state=state, cancel_reason=reason, decided_at=to_naive_utc(now))
        .where((Reminder.id == reminder_id) & (Reminder.state == PLANNED))
        .execute()
    )
    return changed == 1


def finish_batches(now):
    waiting = Reminder.select(Reminder.batch).where(Reminder.state == PLANNED)
    with write_transaction():
        ReminderBatch.update(finished_at=to_naive_utc(now)).where(
            ReminderBatch.finished_at.is_null() & ReminderBatch.id.not_in(waiting)
        ).execute()


# What the owner sees --------------------------------------------------------------------------


def recent_batches(limit=20, offset=0):
    counts = (
        Reminder.select(
            Reminder.batch,
            _count_where(Reminder.state == SENT).alias("sent"),
            _count_where(Reminder.state == CANCELLED).alias("cancelled"),
            _count_where(Reminder.state == PLANNED).alias("planned"),
            _count_where(Reminder.state == HELD_OUT).alias("held_out"),
        )
        .group_by(Reminder.batch)
        .alias("counts")
    )
    batches = list(
        ReminderBatch.select()
        .order_by(ReminderBatch.planned_at.desc(), ReminderBatch.id.desc())
        .limit(limit)
        .offset(offset)
    )
    by_batch = {row.batch_id: row for row in counts.where(Reminder.batch.in_([b.id for b in batches]))}
    for batch in batches:
        row = by_batch.get(batch.id)
        batch.sent = int(row.sent or 0) if row else 0
        batch.cancelled = int(row.cancelled or 0) if row else 0
        batch.waiting = int(row.planned or 0) if row else 0
        batch.held_out = int(row.held_out or 0) if row else 0
    return batches


def _count_where(condition):
    return fn.SUM(Case(None, [(condition, 1)], 0))  # PostgreSQL can't SUM booleans


def recovered_orders(sent):
    """{order id: (key, total)} for reminded orders paid within 48 hours of a reminder.

    `sent` is (order id, key, sent at, paid at, order total) per reminder sent,
    oldest first. An order counts once, for the last reminder sent before it was
    paid (its key), so a customer reminded twice is not counted twice.
    """
    last_before_payment = {}
    for order_id, key, sent_at, paid_at, total in sent:
        if paid_at is not None and sent_at <= paid_at < sent_at + RECOVERY_WINDOW:
            last_before_payment[order_id] = (key, total)  # a later reminder replaces it
    return last_before_payment


def results(since=None):
    """Per segment: reminders sent, reminded orders paid within 48 hours of a reminder, amount."""
    query = (
        Reminder.select(Reminder.order, Reminder.segment, Reminder.decided_at, Order.paid_at, Order.total)
        .join(Order, on=(Reminder.order == Order.id))
        .where(Reminder.state == SENT)
        .order_by(Reminder.decided_at)
        .tuples()
    )
    if since is not None:
        query = query.where(Reminder.decided_at >= since)
    sent = list(query.iterator())
    by_segment = {}
    for _, segment, *_ in sent:
        by_segment.setdefault(segment, {"sent": 0, "orders": 0, "amount": 0})["sent"] += 1
    for segment, total in recovered_orders(sent).values():
        by_segment[segment]["orders"] += 1
        by_segment[segment]["amount"] += total
    return by_segment
