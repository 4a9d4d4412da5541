"""The sales report (models/reports/sales.py): every figure is computed again here in plain
Python over the orders and refunds the test wrote (what it remembers writing, never the SQL
the report runs), and compared to the cent.

A sale counts on the shop day it was paid, a refund on the shop day it was made. The shop's
time zone is Europe/London in the tests unless a test changes it: an order paid at 00:30 on
a Monday in summer was paid at 23:30 UTC on the Sunday, in the week before.
"""

import csv
import datetime
import io
import itertools
import zoneinfo
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

from models.base import to_naive_utc
from models.orders.order import CANCELLED
from models.orders.order import Order
from models.refunds.orders import OrderRefund
from models.refunds.orders import refund_order
from models.refunds.orders import TO_FUNDS
from models.reports.sales import sales
from models.reports.scope import Scope
from models.shop.settings import update_settings
from tests.conftest import sign_in
from tests.factories import MARKETPLACE
from tests.factories import new_customer
from tests.factories import new_group
from tests.factories import new_order
from tests.factories import new_sale
from tests.factories import tz
from tests.reports.test_reports import plain
from tests.reports.test_reports import table_of

PARTS = ("funds_used", "credit_used", "card_amount", "bank_amount", "marketplace_amount")
MONEY = ("goods", "delivery", "discount", "refunds", "net", *PARTS)
_keys = itertools.count(1)


@dataclass
class Sale:
    """What the test wrote for one order: enough to work out the report by hand."""

    user: object
    paid_at: datetime.datetime | None  # aware; None: never paid
    goods: int
    delivery: int
    discount: int
    parts: dict


@dataclass
class Refund:
    user: object
    made_at: datetime.datetime  # aware
    amount: int
    refused_card: int  # the card part the provider refused (it went back)


class History:
    """Orders and refunds written to the database, remembered as plain values."""

    def __init__(self):
        self.sales, self.refunds = [], []

    def sale(self, customer, paid_at, goods, delivery=0, discount=0, paid_by=None, **options):
        order = new_sale(
            customer, paid_at, goods=goods, delivery=delivery, discount=discount, paid_by=paid_by, **options
        )
        parts = dict.fromkeys(PARTS, 0)
        channel = options.get("channel", "shop")
        parts.update(paid_by or {("bank_amount" if channel == "shop" else "marketplace_amount"): order.total})
        self.sales.append(Sale(customer, paid_at, goods, delivery, discount, parts))
        return order

    def unpaid(self, customer, placed_at, total=4321):
        new_order(customer, placed_at, total=total)
        self.sales.append(Sale(customer, None, total, 0, 0, dict.fromkeys(PARTS, 0)))

    def refund(self, order, made_at, amount, to_card=0, refused=False):
        """A refund row as refund_order() leaves it (no ledger: the report reads the rows)."""
        OrderRefund.create(
            order=order,
            user=order.user_id,
            amount=amount,
            destination="original",
            to_account=amount - to_card,
            to_card=to_card,
            card_part=to_card,
            bank_part=amount - to_card,
            card_state=("failed" if refused else "succeeded") if to_card else "",
            idempotency_key=f"sales-test:{next(_keys)}",
            created_at=to_naive_utc(made_at),
            updated_at=to_naive_utc(made_at),
        )
        self.refunds.append(Refund(order.user, made_at, amount, to_card if refused else 0))


def local(day, hour=12, minute=0, zone=None):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zone or tz())


def first_day_of_bucket(day, bucket):
    if bucket == "week":
        return day - datetime.timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def expected(history, first, last, bucket, customers=None):
    """{first day of the bucket: figures} for every bucket the period touches, and the totals,
    worked out from what the test wrote; `customers`: the customers the filter keeps."""
    zone = tz()
    buckets = {}
    day = first
    while day <= last:
        buckets.setdefault(first_day_of_bucket(day, bucket), dict.fromkeys(("orders", *MONEY), 0))
        day += datetime.timedelta(days=1)

    def figures_of(user, moment):
        if moment is None or (customers is not None and user.id not in customers):
            return None
        day = moment.astimezone(zone).date()
        return buckets[first_day_of_bucket(day, bucket)] if first <= day <= last else None

    for sale in history.sales:
        figures = figures_of(sale.user, sale.paid_at)
        if figures is not None:
            figures["orders"] += 1
            figures["goods"] += sale.goods
            figures["delivery"] += sale.delivery
            figures["discount"] += sale.discount
            for part, amount in sale.parts.items():
                figures[part] += amount
    for refund in history.refunds:
        figures = figures_of(refund.user, refund.made_at)
        if figures is not None:
            figures["refunds"] += refund.amount - refund.refused_card
    for figures in buckets.values():
        figures["net"] = figures["goods"] + figures["delivery"] - figures["discount"] - figures["refunds"]
    totals = {key: sum(figures[key] for figures in buckets.values()) for key in ("orders", *MONEY)}
    return buckets, totals


def assert_report_matches(report, buckets, totals):
    assert len(report.rows) == len(buckets)
    for row, (start, figures) in zip(report.rows, sorted(buckets.items()), strict=True):
        assert {key: row[key] for key in figures} == figures, (start, row["period"])
        assert row["net"] == row["goods"] + row["delivery"] - row["discount"] - row["refunds"]
        assert sum(row[part] for part in PARTS) == row["goods"] + row["delivery"] - row["discount"]
    assert {key: report.totals[key] for key in totals} == totals
    summary = {label: value for label, value, _ in report.summary}
    assert summary["Paid orders"] == totals["orders"]
    assert (summary["Goods"], summary["Delivery"], summary["Funds discount"]) == (
        totals["goods"],
        totals["delivery"],
        totals["discount"],
    )
    assert (summary["Refunds"], summary["Net sales"]) == (totals["refunds"], totals["net"])
    assert report.chart.series[0].values == [row["net"] for row in report.rows]


SEPTEMBER = datetime.date(2026, 9, 1)  # a Tuesday; summer time (UTC+1) until Sunday 25 October


@pytest.fixture
def autumn(ctx):
    """Two months of sales and refunds around the edges of days, weeks, months and summer time."""
    vip = new_group()
    ann, ben, cat = new_customer(), new_customer(group=vip), new_customer(group=vip)
    history = History()
    sep = lambda day: SEPTEMBER.replace(day=day)  # noqa: E731
    oct_ = lambda day: SEPTEMBER.replace(month=10, day=day)  # noqa: E731
    # Monday 7 September 00:30 is Sunday 23:30 UTC: a sale of Monday's week.
    monday_early = history.sale(
        ann,
        local(sep(7), 0, 30),
        4000,
        delivery=495,
        discount=100,
        paid_by={"funds_used": 2000, "card_amount": 2395},
    )
    history.sale(ann, local(sep(6), 23, 30), 1000)  # Sunday 22:30 UTC: the week before
    # Placed on 31 August, paid on 1 September 00:15 (31 August 23:15 UTC): a September sale.
    history.sale(
        ben,
        local(sep(1), 0, 15),
        3000,
        delivery=300,
        paid_by={"credit_used": 3300},
        created_at=local(sep(1)) - datetime.timedelta(days=1),
    )
    history.sale(ben, local(sep(30), 23, 59), 7777, channel=MARKETPLACE)  # a marketplace order
    history.sale(cat, local(oct_(1), 0, 5), 5000, paid_by={"card_amount": 5000})  # 30 Sep 23:05 UTC
    cancelled = history.sale(cat, local(sep(15), 9), 2500, delivery=450, status=CANCELLED)  # stays a sale
    history.refund(cancelled, local(sep(22), 10), 2950)  # refunded in full the week after
    history.refund(monday_early, local(oct_(1), 0, 10), 500)  # 30 Sep 23:10 UTC: an October refund
    history.refund(monday_early, local(sep(8), 15), 800, to_card=600, refused=True)  # 200 counts
    history.unpaid(ann, local(sep(10)))
    # Placed in September, paid in October: an October sale.
    history.sale(ann, local(oct_(2), 8), 1200, created_at=local(sep(28)))
    # The night summer time ends (Sunday 25 October, 02:00 BST → 01:00 GMT).
    history.sale(ben, local(oct_(24), 23, 30), 100)  # 22:30 UTC
    history.sale(ben, local(oct_(25), 1, 30), 200)  # the first 01:30 (BST), 00:30 UTC
    history.sale(ben, local(oct_(25), 23, 30), 300)  # GMT: 23:30 UTC, still Sunday
    history.sale(cat, local(oct_(26), 0, 30), 400, delivery=50)  # Monday, a new week
    history.sale(cat, local(oct_(31), 23, 59), 600)
    history.sale(cat, local(SEPTEMBER.replace(month=11, day=1), 0, 1), 999)  # November
    return history, vip, (ann, ben, cat)


@pytest.mark.parametrize("bucket", ["day", "week", "month"])
def test_sales_by_day_week_and_month_with_group_and_customer_filters(autumn, bucket):
    history, vip, (ann, ben, cat) = autumn
    first, last = SEPTEMBER, SEPTEMBER.replace(month=10, day=31)
    for group_id, customer_id, customers in (
        (None, None, None),
        (vip.id, None, {ben.id, cat.id}),
        (None, cat.id, {cat.id}),
        (None, ann.id, {ann.id}),
    ):
        report = sales(Scope(first, last, bucket, group_id, customer_id))
        assert_report_matches(report, *expected(history, first, last, bucket, customers))


def test_the_figures_a_person_would_check(autumn):
    """The same history read by hand: what the owner would count on a calendar."""
    history, _, _ = autumn
    report = sales(Scope(SEPTEMBER, SEPTEMBER.replace(month=10, day=31), "week"))
    rows = {row["period"]: row for row in report.rows}
    assert rows["from 1 Sept"]["orders"] == 2  # ben's order of 1 September 00:15, ann's of Sunday 23:30
    assert (rows["w/c 7 Sept"]["orders"], rows["w/c 7 Sept"]["goods"], rows["w/c 7 Sept"]["delivery"]) == (
        1,
        4000,
        495,
    )
    assert rows["w/c 7 Sept"]["refunds"] == 200  # 800 asked, the card's 600 refused
    assert rows["w/c 14 Sept"]["orders"] == 1 and rows["w/c 14 Sept"]["refunds"] == 0
    assert rows["w/c 21 Sept"]["refunds"] == 2950 and rows["w/c 21 Sept"]["net"] == -2950
    october = sales(Scope(SEPTEMBER.replace(month=10, day=1), SEPTEMBER.replace(month=10, day=31), "month"))
    (row,) = october.rows
    assert row["orders"] == 1 + 1 + 3 + 2  # 1 Oct 00:05, 2 Oct, the three weekend sales, 26 and 31 Oct
    assert row["refunds"] == 500
    by_day = sales(Scope(SEPTEMBER.replace(month=10, day=24), SEPTEMBER.replace(month=10, day=26), "day"))
    assert [row["orders"] for row in by_day.rows] == [1, 2, 1]  # the 25-hour Sunday keeps both its sales
    assert [row["goods"] for row in by_day.rows] == [100, 500, 400]


def test_a_cut_period_counts_only_its_own_days(autumn):
    history, _, _ = autumn
    first, last = SEPTEMBER.replace(day=3), SEPTEMBER.replace(month=10, day=25)
    report = sales(Scope(first, last, "week"))
    assert report.rows[0]["period"] == "from 3 Sept"
    assert_report_matches(report, *expected(history, first, last, "week"))


@pytest.mark.parametrize(
    ("zone_name", "paid_utc", "shop_day"),
    [
        # 22:00 on Monday 7 September in Los Angeles (UTC−7) is 05:00 UTC on the Tuesday.
        ("America/Los_Angeles", datetime.datetime(2026, 9, 8, 5, 0), datetime.date(2026, 9, 7)),
        # 01:00 on Monday 7 September in Auckland (UTC+12) is 13:00 UTC on the Sunday.
        ("Pacific/Auckland", datetime.datetime(2026, 9, 6, 13, 0), datetime.date(2026, 9, 7)),
        # Kathmandu is UTC+5:45: 23:50 UTC on the 6th is 05:35 on the 7th there.
        ("Asia/Kathmandu", datetime.datetime(2026, 9, 6, 23, 50), datetime.date(2026, 9, 7)),
    ],
)
def test_a_shop_far_from_utc_counts_by_its_own_day(ctx, zone_name, paid_utc, shop_day):
    update_settings({"timezone": zone_name})
    zone = zoneinfo.ZoneInfo(zone_name)
    history = History()
    customer = new_customer()
    order = history.sale(customer, paid_utc.replace(tzinfo=datetime.UTC), 1500, delivery=250)
    history.refund(order, paid_utc.replace(tzinfo=datetime.UTC) + datetime.timedelta(hours=1), 700)
    assert paid_utc.replace(tzinfo=datetime.UTC).astimezone(zone).date() == shop_day
    first, last = datetime.date(2026, 9, 1), datetime.date(2026, 9, 14)
    for bucket in ("day", "week"):
        report = sales(Scope(first, last, bucket))
        buckets, totals = expected(history, first, last, bucket)
        assert_report_matches(report, buckets, totals)
        assert buckets[first_day_of_bucket(shop_day, bucket)]["orders"] == 1
    by_day = sales(Scope(first, last, "day"))
    assert by_day.rows[(shop_day - first).days]["net"] == 1500 + 250 - 700


def test_a_refund_made_weeks_later_belongs_to_its_own_week(ctx, owner):
    """Through refund_order(), where refunds are really recorded: the refund's day, not the order's."""
    customer = new_customer()
    order = new_sale(customer, local(SEPTEMBER.replace(day=2), 10), goods=6000, delivery=500)
    refund_order(
        order,
        2000,
        TO_FUNDS,
        "Broken cup",
        owner,
        "refund-1",
        now=to_naive_utc(local(SEPTEMBER.replace(day=16), 9)),
    )
    report = sales(Scope(SEPTEMBER, SEPTEMBER.replace(day=30), "week"))
    rows = {row["period"]: row for row in report.rows}
    assert (rows["from 1 Sept"]["net"], rows["from 1 Sept"]["refunds"]) == (6500, 0)
    assert (rows["w/c 14 Sept"]["orders"], rows["w/c 14 Sept"]["refunds"], rows["w/c 14 Sept"]["net"]) == (
        0,
        2000,
        -2000,
    )
    assert report.totals["net"] == 4500
    assert Order.get_by_id(order.id).refunded == 2000


def test_an_empty_period_has_every_bucket_at_zero_and_says_so(ctx):
    new_sale(new_customer(), local(SEPTEMBER), goods=1000)  # outside the period
    report = sales(Scope(SEPTEMBER.replace(month=10, day=5), SEPTEMBER.replace(month=10, day=18), "week"))
    assert [row["period"] for row in report.rows] == ["w/c 5 Oct", "w/c 12 Oct"]
    assert {row[key] for row in report.rows for key in ("orders", *MONEY)} == {0}
    assert {report.totals[key] for key in ("orders", *MONEY)} == {0}
    assert report.notes[0] == "No orders were paid and nothing was refunded in this period."


sale_strategy = st.tuples(
    st.integers(0, 2),  # which customer
    st.integers(0, 40 * 24 * 4 - 1),  # when it was paid: a quarter hour in 40 days
    st.integers(1, 50_000),  # goods
    st.sampled_from([0, 395, 1250]),  # delivery
    st.integers(0, 500),  # funds discount
    st.sampled_from(PARTS),  # how it was paid
    st.one_of(st.none(), st.integers(0, 30 * 24 * 4)),  # a refund so many quarter hours later
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    orders=st.lists(sale_strategy, max_size=12),
    period=st.tuples(st.integers(0, 39), st.integers(0, 39)),
    bucket=st.sampled_from(["day", "week", "month"]),
    one_customer=st.booleans(),
)
def test_random_histories_add_up(ctx, orders, period, bucket, one_customer):
    group = new_group()  # each example's customers alone in their group: the scope sees only them
    customers = [new_customer(group=group) for _ in range(3)]
    history = History()
    start = local(datetime.date(2026, 10, 10), 0)  # over the end of summer time
    for who, quarter, goods, delivery, discount, part, refund_after in orders:
        discount = min(discount, goods)
        paid_at = start + datetime.timedelta(minutes=15 * quarter)
        channel = MARKETPLACE if part == "marketplace_amount" else "shop"
        delivery = 0 if channel != "shop" else delivery
        order = history.sale(
            customers[who],
            paid_at,
            goods,
            delivery=delivery,
            discount=discount,
            paid_by={part: goods + delivery - discount},
            channel=channel,
        )
        if refund_after is not None and channel == "shop" and order.total:
            history.refund(
                order, paid_at + datetime.timedelta(minutes=15 * refund_after), max(1, order.total // 3)
            )
    first, last = sorted(datetime.date(2026, 10, 10) + datetime.timedelta(days=n) for n in period)
    customer_id = customers[0].id if one_customer else None
    report = sales(Scope(first, last, bucket, group.id, customer_id))
    keep = {customers[0].id} if one_customer else {customer.id for customer in customers}
    assert_report_matches(report, *expected(history, first, last, bucket, keep))


# The page and its CSV --------------------------------------------------------------------------------


def test_the_csv_holds_the_table_and_its_totals_row(client, owner, app):
    with app.test_request_context():
        history = History()
        customer = new_customer()
        order = history.sale(customer, local(SEPTEMBER.replace(day=2), 10), 12345, delivery=495, discount=250)
        history.refund(order, local(SEPTEMBER.replace(day=20), 10), 1000)
        history.sale(customer, local(SEPTEMBER.replace(day=9), 10), 999, channel=MARKETPLACE)
    sign_in(client, owner)
    query = "period=custom&date_from=2026-09-01&date_to=2026-09-30&by=week"
    html = client.get(f"/admin/reports/sales?{query}").get_data(as_text=True)
    download = client.get(f"/admin/reports/sales.csv?{query}")
    assert download.status_code == 200
    assert download.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert [[plain(cell) for cell in row] for row in table_of(html)] == rows
    assert rows[0] == ["Period", "Orders", "Goods", "Delivery", "Discount", "Refunds", "Net sales"] + [
        "Funds",
        "Credit",
        "Card",
        "Bank transfer",
        "Marketplace",
    ]
    assert rows[-1] == ["Total", "2", "133.44", "4.95", "2.50", "10.00", "125.89"] + [
        "0.00",
        "0.00",
        "0.00",
        "125.90",  # 123.45 + 4.95 − 2.50 by bank transfer
        "9.99",
    ]
    assert "<tfoot>" in html and "counted on the day they were paid" in html


def test_the_sales_report_is_listed_and_an_empty_month_says_so(client, owner):
    sign_in(client, owner)
    index = client.get("/admin/reports").get_data(as_text=True)
    assert "Sales" in index and "Orders by the day they were paid" in index
    page = client.get("/admin/reports/sales?period=custom&date_from=2026-02-01&date_to=2026-02-28")
    assert page.status_code == 200
    assert "No orders were paid and nothing was refunded in this period." in page.get_data(as_text=True)
