"""The owner's dashboard (issue 21): orders to dispatch, sales today and over 7 days against the
times before, and the alert when mail can't go out. Figures are worked out here from the orders
the test makes, in a shop whose time zone is far from UTC so a shop day is not a UTC day."""

import datetime
import re
import zoneinfo

import pytest
import time_machine

from models.orders.order import CANCELLED
from models.orders.order import COMPLETED
from models.orders.order import DISPATCHED
from models.orders.order import PAID
from models.orders.order import PENDING_PAYMENT
from models.reports.dashboard import dashboard
from models.shop.heartbeat import beat
from models.shop.outbox import FAILED
from models.shop.outbox import OutboxMessage
from models.shop.outbox import QUEUED
from models.shop.outbox import SENT
from models.shop.outbox import UNKNOWN
from models.shop.settings import update_settings
from tests.conftest import sign_in
from tests.factories import new_customer
from tests.factories import new_order

ZONE = "Pacific/Auckland"  # UTC+13 in November: the shop's Thursday starts on Wednesday, 11:00 UTC


def local(year, month, day, hour=0, minute=0):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=zoneinfo.ZoneInfo(ZONE))


def now():
    """Thursday 26 November 2026, 15:00 shop time."""
    return local(2026, 11, 26, 15, 0)


@pytest.fixture
def shop(app):
    update_settings({"timezone": ZONE})
    return app


def card(html, title):
    return html.split(f"<h2>{title}</h2>")[1].split("</article>")[0]


def owner_page(app, owner, path="/admin/"):
    browser = app.test_client()
    sign_in(browser, owner)
    return browser, browser.get(path).get_data(as_text=True)


def money(cents):
    return f"€{cents // 100:,}.{cents % 100:02d}"


# (placed, paid, status, channel, total): paid None means not paid
ORDERS = [
    # today, shop time: 00:10 is still Wednesday 11:10 in UTC
    (local(2026, 11, 26, 0, 10), local(2026, 11, 26, 0, 15), PAID, "shop", 1_000),
    (local(2026, 11, 26, 9, 0), local(2026, 11, 26, 9, 5), DISPATCHED, "shop", 2_500),
    (local(2026, 11, 26, 11, 0), local(2026, 11, 26, 11, 0), PAID, "amazon", 4_000),
    (local(2026, 11, 26, 12, 0), None, PENDING_PAYMENT, "shop", 9_900),  # not paid: no sale
    (local(2026, 11, 26, 13, 0), None, CANCELLED, "shop", 8_800),
    # yesterday 23:55: not today (though the same UTC day as this morning's)
    (local(2026, 11, 25, 23, 55), local(2026, 11, 26, 8, 0), PAID, "shop", 700),
    # placed on Monday, paid by bank transfer today: Monday's sale
    (local(2026, 11, 23, 10, 0), local(2026, 11, 26, 10, 0), PAID, "shop", 1_200),
    # the oldest waiting to be dispatched: paid 3 days and 2 hours ago
    (local(2026, 11, 23, 12, 0), local(2026, 11, 23, 13, 0), PAID, "shop", 300),
    # 6 days ago: still in the last 7 days
    (local(2026, 11, 20, 0, 0), local(2026, 11, 20, 0, 1), COMPLETED, "shop", 600),
    # Thursday a week ago: before 15:00 counts against today, after it does not
    (local(2026, 11, 19, 14, 59), local(2026, 11, 19, 15, 0), COMPLETED, "shop", 1_900),
    (local(2026, 11, 19, 15, 1), local(2026, 11, 19, 15, 2), COMPLETED, "ebay", 5_000),
    # 13 days ago: the week before; 14 days ago: neither
    (local(2026, 11, 13, 18, 0), local(2026, 11, 13, 18, 0), COMPLETED, "shop", 400),
    (local(2026, 11, 12, 23, 59), local(2026, 11, 13, 0, 0), COMPLETED, "shop", 50_000),
]


@pytest.fixture
def orders(shop):
    customer = new_customer()
    made = []
    for placed, paid, status, channel, total in ORDERS:
        made.append(
            new_order(
                customer,
                placed,
                status=status,
                channel=channel,
                paid_at=paid,
                total=total,
                auto_cancel_at=None,
            )
        )
    return ORDERS


def sales(first, last, placed_before=None):
    """(count, value, marketplace value) of the paid orders placed from `first` to `last`, shop days."""
    chosen = [
        (total, channel)
        for placed, paid, status, channel, total in ORDERS
        if paid is not None
        and first <= placed.date() <= last
        and (placed_before is None or placed < placed_before)
    ]
    return (
        len(chosen),
        sum(total for total, _ in chosen),
        sum(total for total, channel in chosen if channel != "shop"),
    )


def test_the_figures_follow_the_shops_days(orders, shop):
    today = now().date()
    with time_machine.travel(now(), tick=False):
        figures = dashboard(today)
    week_first = today - datetime.timedelta(days=6)
    assert (
        figures.sales_today.orders,
        figures.sales_today.value,
        figures.sales_today.marketplace_value,
    ) == sales(today, today)
    assert figures.sales_today.value == 1_000 + 2_500 + 4_000
    last_week = today - datetime.timedelta(days=7)
    same_time = figures.sales_same_time_last_week
    assert (same_time.orders, same_time.value, same_time.marketplace_value) == sales(
        last_week, last_week, placed_before=now() - datetime.timedelta(days=7)
    )
    assert same_time.value == 1_900
    week = figures.sales_week
    assert (week.orders, week.value, week.marketplace_value) == sales(week_first, today)
    before = figures.sales_week_before
    assert (before.orders, before.value, before.marketplace_value) == sales(
        week_first - datetime.timedelta(days=7), week_first - datetime.timedelta(days=1)
    )
    assert before.value == 1_900 + 5_000 + 400
    waiting = [(placed, paid, channel) for placed, paid, status, channel, _ in ORDERS if status == PAID]
    dispatch = figures.to_dispatch
    assert (dispatch.shop, dispatch.marketplace) == (
        sum(channel == "shop" for *_, channel in waiting),
        sum(channel != "shop" for *_, channel in waiting),
    )
    assert dispatch.oldest_age(now()) == now() - min(paid for _, paid, _ in waiting)


def test_the_cards_say_what_they_count_and_link_to_the_orders(orders, shop, owner):
    with time_machine.travel(now(), tick=False):
        browser, html = owner_page(shop, owner)
        dispatch = card(html, "To dispatch")
        assert "5 orders" in dispatch and "4 from the shop, 1 from marketplaces" in dispatch
        assert "The oldest was paid 3 days ago" in dispatch
        link = re.search(r'href="(/admin/orders\?status=paid)"', dispatch).group(1)
        listed = browser.get(link).get_data(as_text=True)
        assert listed.count('name="order"') == 5  # the same orders, each with its dispatch tick
    today = card(html, "Sales today")
    assert money(7_500) in today and "3 orders" in today and f"{money(4_000)} of it on marketplaces" in today
    assert f"up from {money(1_900)} by this time last Thursday" in today
    assert "Orders placed today and paid." in today
    week = card(html, "Sales, last 7 days")
    count, value, marketplace = sales(now().date() - datetime.timedelta(days=6), now().date())
    assert money(value) in week and f"{count} orders" in week and money(marketplace) in week
    assert f"up from {money(7_300)} the 7 days before" in week


def test_nothing_to_dispatch_reads_calmly(owner, shop):
    _, html = owner_page(shop, owner)
    dispatch = card(html, "To dispatch")
    assert "0 orders" in dispatch and "Every paid order is on its way." in dispatch
    assert "Sales today" in html and "the same as €0.00 by this time last" in card(html, "Sales today")


# Mail ---------------------------------------------------------------------------------------------


def message(state, created_at=None, attempts=0):
    return OutboxMessage.create(
        kind="test",
        to_address="someone@example.com",
        subject="Hello",
        text_body="Hello",
        state=state,
        attempts=attempts,
        created_at=created_at or datetime.datetime.now(datetime.UTC).replace(tzinfo=None),
    )


@pytest.fixture
def mail_server(app):
    app.config["SMTP_HOST"] = "mail.test"
    beat("tick", datetime.datetime.now(datetime.UTC))  # the jobs process is alive
    return app


def alert(html):
    found = re.search(r'<div class="dashboard-alert" role="alert">(.*?)</div>', html, re.S)
    return found.group(1) if found else None


def test_no_alert_when_mail_goes_out(mail_server, owner):
    message(SENT)
    message(QUEUED)  # waiting for the next tick, as every message does
    message(
        FAILED,
        created_at=datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(days=8),
    )
    _, html = owner_page(mail_server, owner)
    assert alert(html) is None
    assert 'class="stat warn">1 waiting' not in html


@pytest.mark.parametrize(
    "case, expected",
    [
        ("no_server", "2 messages are waiting</strong> and nobody receives them: no mail server is set up"),
        (
            "jobs_stopped",
            "2 messages are waiting</strong> and nothing sends them: the jobs process is not running",
        ),
        (
            "retrying",
            "1 message</strong> could not be handed to the mail server yet and is being tried again",
        ),
        ("failed", "1 message failed</strong> in the last 7 days"),
        ("unknown", "1 message</strong> may not have arrived (delivery unknown)"),
    ],
)
def test_the_alert_says_why_mail_is_not_going_out(mail_server, owner, staff, case, expected):
    if case == "no_server":
        mail_server.config["SMTP_HOST"] = ""
        message(QUEUED), message(QUEUED)
    elif case == "jobs_stopped":
        beat("tick", datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=10))
        message(QUEUED), message(QUEUED)
    elif case == "retrying":
        message(QUEUED, attempts=2)
    else:
        message(FAILED if case == "failed" else UNKNOWN)
    _, html = owner_page(mail_server, owner)
    shown = alert(html)
    assert shown is not None, "no alert"
    assert expected in shown
    assert 'href="/admin/outbox"' in shown
    assert "<strong>" in shown and "<h2" in shown
    assert 'class="stat warn"' in card(html, "Mail")
    _, staff_html = owner_page(mail_server, staff)
    assert expected in alert(staff_html) and "/admin/outbox" not in alert(staff_html)
