"""The owner's reports (models/reports/, views/admin/reports.py): every figure is computed
again here, independently, from the history the test wrote, and compared to the cent.

Ledger history goes through models.funds.ledger.transfer() with `now` in the past, so it
is real ledger data (guarded debits, funds and credit parts, shop days); orders and
reminders are direct rows (tests/factories.py), which is all the reports read.
"""

import csv
import datetime
import io
import re
import statistics
from collections import defaultdict
from decimal import Decimal
from decimal import ROUND_HALF_UP
from html import unescape
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st

from models.base import to_naive_utc
from models.base import write_transaction
from models.funds.credit import BANK_TRANSFERS
from models.funds.credit_requests import APPROVED
from models.funds.credit_requests import CreditRequest
from models.funds.credit_requests import DECLINED
from models.funds.customer_accounts import account_for
from models.funds.customer_accounts import set_credit_limit
from models.funds.ledger import ADJUSTMENTS
from models.funds.ledger import Declined
from models.funds.ledger import FUNDS_ON_HOLD
from models.funds.ledger import Leg
from models.funds.ledger import PROMOTIONS
from models.funds.ledger import PROVIDER_CLEARING
from models.funds.ledger import REFUNDS
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.groups.management import update_group
from models.orders.order import Order
from models.orders.order import OrderLine
from models.orders.order import PAID
from models.reports.credit import credit
from models.reports.deposits import deposits
from models.reports.order_value import order_value
from models.reports.order_value import order_value_hints
from models.reports.reminders import reminders
from models.reports.roll_forward import roll_forward
from models.reports.roll_forward import ROLL_FORWARD_LINES
from models.reports.scope import bucket_start
from models.reports.scope import bucket_starts
from models.reports.scope import Scope
from models.reports.usage import usage
from models.shop.settings import update_settings
from tests.conftest import sign_in
from tests.factories import new_customer
from tests.factories import new_group
from tests.factories import new_order
from tests.factories import reminder_row
from tests.factories import tz
from views.admin.reports import csv_value

DAY_ONE = datetime.date(2026, 9, 1)  # a Tuesday
SYSTEM_FOR = {
    "deposit": PROVIDER_CLEARING,
    "repayment": BANK_TRANSFERS,
    "bonus": PROMOTIONS,
    "bonus_reversal": PROMOTIONS,
    "reward": PROMOTIONS,
    "refund_in": REFUNDS,
    "adjustment": ADJUSTMENTS,
    "hold": FUNDS_ON_HOLD,
    "release": FUNDS_ON_HOLD,
    "refund_out": PROVIDER_CLEARING,
}
INTO_ACCOUNT = {"deposit", "repayment", "bonus", "reward", "refund_in", "release"}
OUT_OF_ACCOUNT = {"hold", "refund_out", "bonus_reversal"}
_keys = iter(range(1, 10**9))


def noon(day, hour=12):
    """Naive UTC at `hour` o'clock UTC on `day` (the same shop day in London)."""
    return datetime.datetime.combine(day, datetime.time(hour))


def move(customer, category, amount, day, hour=12):
    """Move `amount` (positive: into the customer's account) with the category's system account."""
    other = system_account(SYSTEM_FOR[category])
    return transfer(
        f"report-test:{next(_keys)}",
        "test",
        [Leg(account_for(customer), amount, category), Leg(other, -amount, category)],
        now=noon(day, hour),
    )


def half_up(value):
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def expected_median(values):
    return half_up(statistics.median(values)) if values else 0


# Roll-forward --------------------------------------------------------------------------------


movements = st.lists(
    st.tuples(
        st.integers(0, 2),  # which customer
        st.sampled_from(sorted(SYSTEM_FOR)),
        st.integers(1, 20_000),
        st.booleans(),  # an adjustment's direction
        st.integers(0, 59),  # day
    ),
    max_size=25,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    history=movements,
    limits=st.lists(st.integers(0, 30_000), min_size=3, max_size=3),
    period=st.tuples(st.integers(0, 59), st.integers(0, 59)),
    one_customer=st.booleans(),
)
def test_roll_forward_reconciles_over_random_histories(ctx, history, limits, period, one_customer):
    group = new_group()  # each example's customers alone in their group: the scope sees only them
    customers = [new_customer(group=group) for _ in limits]
    for customer, limit in zip(customers, limits, strict=True):
        set_credit_limit(customer, limit)
    moved = []  # (customer number, day, category, amount) of every movement the ledger took
    for who, category, amount, up, day_number in sorted(history, key=lambda move_: move_[4]):
        if category == "adjustment":
            signed = amount if up else -amount
        else:
            signed = amount if category in INTO_ACCOUNT else -amount
        day = DAY_ONE + datetime.timedelta(days=day_number)
        try:
            move(customers[who], category, signed, day)
        except Declined:
            continue
        moved.append((who, day, category, signed))
    first, last = sorted(DAY_ONE + datetime.timedelta(days=n) for n in period)
    scope = Scope(
        first, last, "week", group_id=group.id, customer_id=customers[0].id if one_customer else None
    )
    mine = [m for m in moved if not one_customer or m[0] == 0]

    report = roll_forward(scope)

    lines = {row["line"]: row["amount"] for row in report.rows}
    opening = sum(amount for _, day, _, amount in mine if day < first)
    closing = sum(amount for _, day, _, amount in mine if day <= last)
    assert lines["Opening balance"] == opening
    for category, label in ROLL_FORWARD_LINES:
        assert lines[label] == sum(a for _, day, c, a in mine if c == category and first <= day <= last), (
            label
        )
    assert lines["Closing balance"] == closing
    summary = {label: value for label, value, _ in report.summary}
    assert summary["Closing balance (accounts)"] == closing
    assert summary["Difference"] == 0
    balances = defaultdict(int)
    for who, day, _, amount in mine:
        if day <= last:
            balances[who] += amount
    assert summary["Held for customers at the end"] == sum(b for b in balances.values() if b > 0)
    assert summary["Owed by customers at the end"] == -sum(b for b in balances.values() if b < 0)


def test_roll_forward_to_today_matches_the_cached_balances(ctx):
    alice, bob = new_customer(), new_customer()
    set_credit_limit(bob, 5000)
    today = datetime.date.today()
    move(alice, "deposit", 3000, today - datetime.timedelta(days=3))
    move(alice, "hold", -1200, today - datetime.timedelta(days=2))
    move(bob, "hold", -4000, today - datetime.timedelta(days=1))
    report = roll_forward(Scope(today - datetime.timedelta(days=6), today))
    closing = report.rows[-1]["amount"]
    assert closing == account_for(alice).balance + account_for(bob).balance == 1800 - 4000
    summary = {label: value for label, value, _ in report.summary}
    assert summary["Held for customers at the end"] == 1800
    assert summary["Owed by customers at the end"] == 4000


# Deposits -------------------------------------------------------------------------------------


def test_deposits_by_day_week_and_month_with_group_and_customer_filters(ctx):
    vip, basic = new_group(), new_group()
    ann, ben = new_customer(group=vip), new_customer(group=vip)
    cat = new_customer(group=basic)
    history = [  # (customer, category, amount, day number)
        (ann, "deposit", 2000, 0),
        (ann, "bonus", 200, 0),
        (ben, "deposit", 3333, 0),
        (cat, "deposit", 5000, 6),
        (ann, "deposit", 1001, 13),
        (cat, "deposit", 999, 30),
        (cat, "bonus", 100, 30),
        (ben, "deposit", 7000, 45),
    ]
    for customer, category, amount, day in history:
        move(customer, category, amount, DAY_ONE + datetime.timedelta(days=day))
    move(ann, "hold", -500, DAY_ONE)  # spending is no deposit

    for bucket in ("day", "week", "month"):
        for group_id, customer_id in ((None, None), (vip.id, None), (None, cat.id)):
            scope = Scope(DAY_ONE, DAY_ONE + datetime.timedelta(days=59), bucket, group_id, customer_id)
            rows = deposits(scope).rows
            expected = defaultdict(lambda: [0, 0, 0])
            for customer, category, amount, day in history:
                if (group_id and customer.group_id != group_id) or (
                    customer_id and customer.id != customer_id
                ):
                    continue
                start = bucket_start(DAY_ONE + datetime.timedelta(days=day), bucket)
                if category == "deposit":
                    expected[start][0] += 1
                    expected[start][1] += amount
                else:
                    expected[start][2] += amount
            assert len(rows) == len(
                {bucket_start(DAY_ONE + datetime.timedelta(days=n), bucket) for n in range(60)}
            )
            got = {row["period"]: row for row in rows}
            assert sum(row["count"] for row in rows) == sum(v[0] for v in expected.values())
            for start, (count, total, bonus) in expected.items():
                row = next(r for r in rows if r["period"] == _label(start, bucket, rows, scope))
                assert (row["count"], row["total"], row["bonus"]) == (count, total, bonus)
                assert row["average"] == half_up(Decimal(total) / count)
            assert len(got) == len(rows)  # every bucket's label is its own


def _label(start, bucket, rows, scope):

    return rows[bucket_starts(scope).index(start)]["period"]


# Usage and order value -------------------------------------------------------------------------


def paid(customer, day, funds=0, credit_=0, card=0, bank=0, market=0, discount=0):
    total = funds + credit_ + card + bank + market
    order = new_order(
        customer,
        datetime.datetime.combine(day, datetime.time(12), tzinfo=tz()),
        status=PAID,
        paid_at=datetime.datetime.combine(day, datetime.time(13), tzinfo=tz()),
        total=total,
    )
    Order.update(
        subtotal=total + discount,
        funds_discount=discount,
        funds_used=funds,
        credit_used=credit_,
        card_amount=card,
        bank_amount=bank,
        marketplace_amount=market,
    ).where(Order.id == order.id).execute()
    return Order.get_by_id(order.id)


def test_usage_shares_and_discount(ctx):
    ann, ben = new_customer(), new_customer()
    orders = [
        paid(ann, DAY_ONE, funds=1950, discount=50),
        paid(ann, DAY_ONE + datetime.timedelta(days=1), funds=500, credit_=700, card=800),
        paid(ben, DAY_ONE + datetime.timedelta(days=2), bank=3000),
        paid(ben, DAY_ONE + datetime.timedelta(days=40), market=1234),
    ]
    new_order(ann, datetime.datetime.combine(DAY_ONE, datetime.time(12), tzinfo=tz()), total=9999)  # unpaid
    scope = Scope(DAY_ONE, DAY_ONE + datetime.timedelta(days=59), "month")
    report = usage(scope)
    value = sum(order.total for order in orders)
    summary = {label: value_ for label, value_, _ in report.summary}
    assert summary["Paid orders"] == 4
    assert summary["Order value"] == value
    assert summary["Paid with funds"] == round((1950 + 500) * 100 / value, 1)
    assert summary["Paid with credit"] == round(700 * 100 / value, 1)
    assert summary["Paid other ways"] == round((800 + 3000 + 1234) * 100 / value, 1)
    assert summary["Discount for paying with funds"] == 50
    september, october = report.rows
    assert (september["orders"], september["value"], september["funds_used"]) == (3, 1950 + 2000 + 3000, 2450)
    assert (october["orders"], october["marketplace_amount"], october["funds_share"]) == (1, 1234, 0.0)
    only_ben = usage(Scope(DAY_ONE, DAY_ONE + datetime.timedelta(days=59), "month", customer_id=ben.id))
    assert [row["value"] for row in only_ben.rows] == [3000, 1234]


def test_order_value_average_and_median_with_and_without_funds(ctx):
    customer = new_customer()
    with_funds = [1000, 3000, 2001, 5000]  # median of an even count: (2001 + 3000) / 2 = 2500.5 → 2501
    without = [700, 900, 4000]
    for number, total in enumerate(with_funds):
        paid(customer, DAY_ONE + datetime.timedelta(days=number), funds=total // 2, card=total - total // 2)
    for number, total in enumerate(without):
        paid(customer, DAY_ONE + datetime.timedelta(days=number), bank=total)
    report = order_value(Scope(DAY_ONE, DAY_ONE + datetime.timedelta(days=29), "month"))
    (row,) = report.rows
    assert row["funds_orders"] == 4 and row["other_orders"] == 3
    assert row["funds_median"] == expected_median(with_funds) == 2501
    assert row["funds_average"] == half_up(Decimal(sum(with_funds)) / 4)
    assert row["other_median"] == 900
    assert row["other_average"] == half_up(Decimal(sum(without)) / 3)
    weekly = order_value(Scope(DAY_ONE, DAY_ONE + datetime.timedelta(days=29), "week"))
    first_week = weekly.rows[0]  # 1–6 September (Tuesday to Sunday): every order
    assert first_week["funds_median"] == 2501 and weekly.rows[1]["funds_orders"] == 0


def test_order_value_marks_changes_to_the_discount_and_the_top_up_minimum(ctx, owner):
    today = datetime.date.today()
    update_settings({"topup_min": 2500}, owner)
    group = new_group()
    update_group(group, {"funds_discount_bp": 300}, owner)
    update_settings({"shop_name": "Renamed"}, owner)  # no marker
    report = order_value(Scope(today - datetime.timedelta(days=6), today))
    texts = [text for _, text in report.chart.markers]
    assert len(texts) == 2
    assert "top-up minimum" in texts[0] and "25.00" in texts[0]
    assert group.name in texts[1] and "0 % → 3 %" in texts[1]
    assert report.chart.markers[0][0] == 6  # today's bucket
    assert report.rows[6]["changes"] == "; ".join(texts)
    assert {row["changes"] for row in report.rows[:6]} == {""}
    other_group = order_value(Scope(today - datetime.timedelta(days=6), today, group_id=new_group().id))
    assert [text for _, text in other_group.chart.markers] == texts[
        :1
    ]  # the shop's change, not the other group's


def test_order_value_hints_for_the_funds_settings(ctx):
    customer = new_customer()
    today = datetime.date.today()
    for number, total in enumerate([1500, 2500, 4000]):
        order = paid(customer, today - datetime.timedelta(days=number), card=total)
        OrderLine.create(order=order, product_id=7, name="Tea", unit_price=500, quantity=3, line_total=1500)
        OrderLine.create(order=order, product_id=8, name="Cup", unit_price=1000, quantity=1, line_total=1000)
    middle, top = order_value_hints(today)
    assert middle == 2500
    assert (top.name, top.unit_price, top.bought) == ("Tea", 500, 9)


# Credit ------------------------------------------------------------------------------------------


def test_credit_drawn_repaid_owed_and_requests(ctx, owner):
    ann, ben, cat = new_customer(), new_customer(), new_customer()
    set_credit_limit(ann, 10_000)
    set_credit_limit(ben, 5_000)
    day = DAY_ONE
    move(ann, "deposit", 1_000, day)
    move(ann, "hold", -4_000, day + datetime.timedelta(days=1))  # 1,000 funds + 3,000 credit
    paid(ann, day + datetime.timedelta(days=1), funds=1_000, credit_=3_000)
    move(ben, "hold", -2_500, day + datetime.timedelta(days=8))  # all credit
    paid(ben, day + datetime.timedelta(days=8), credit_=2_500)
    move(ben, "hold", -1_000, day + datetime.timedelta(days=9))  # an order cancelled: its hold comes back
    move(ben, "release", 1_000, day + datetime.timedelta(days=10))
    move(ann, "repayment", 1_000, day + datetime.timedelta(days=9))
    move(cat, "deposit", 500, day)
    for state, amount, decided in (
        (APPROVED, 8_000, day),
        (DECLINED, None, day),
        (APPROVED, 1, day.replace(year=2025)),
    ):
        CreditRequest.create(
            user=cat,
            amount=9_000,
            state=state,
            approved_amount=amount,
            decided_at=noon(decided),
            decided_by=owner,
        )
    report = credit(Scope(day, day + datetime.timedelta(days=12), "week"))
    assert [(row["drawn"], row["repaid"]) for row in report.rows] == [(3_000, 0), (2_500, 1_000)]
    summary = {label: value for label, value, _ in report.summary}
    owed = 2_000 + 2_500
    assert summary["Customers using credit now"] == 2
    assert summary["Owed now"] == owed
    assert summary["Credit limits extended"] == 15_000
    assert summary["Utilisation"] == round(owed * 100 / 15_000, 1)
    assert (summary["Credit requests approved"], summary["Credit approved"]) == (1, 8_000)
    assert summary["Credit requests declined"] == 1
    just_ben = credit(Scope(day, day + datetime.timedelta(days=13), "month", customer_id=ben.id))
    assert [row["drawn"] for row in just_ben.rows] == [2_500]


# Reminders -----------------------------------------------------------------------------------------


def at(day, hour):
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=tz())


def test_reminders_sent_paid_within_48_hours_and_recovered(ctx):
    new, loyal = new_customer(), new_customer()
    day = DAY_ONE
    twice = new_order(new, at(day - datetime.timedelta(days=1), 9), total=2000)
    reminder_row(twice, at(day, 10))
    reminder_row(twice, at(day + datetime.timedelta(days=1), 10))
    Order.update(status=PAID, paid_at=to_naive_utc(at(day + datetime.timedelta(days=2), 9))).where(
        Order.id == twice.id
    ).execute()
    late = new_order(loyal, at(day - datetime.timedelta(days=1), 9), total=5000)
    late_reminder = reminder_row(late, at(day, 10))
    with write_transaction():
        type(late_reminder).update(segment="loyal").where(
            type(late_reminder).id == late_reminder.id
        ).execute()
    Order.update(status=PAID, paid_at=to_naive_utc(at(day + datetime.timedelta(days=3), 9))).where(
        Order.id == late.id
    ).execute()
    never = new_order(loyal, at(day, 8), total=800)
    reminder_row(never, at(day, 10), state="cancelled")  # cancelled rows are not "sent"

    report = reminders(Scope(day, day + datetime.timedelta(days=6), "day"))
    rows = {(row["segment"], row["window"]): row for row in report.rows}
    (window,) = {row["window"] for row in report.rows}
    # An order counts once, reminded twice or not; the control group is empty, so no difference.
    assert rows[("New", window)] | {} == {
        "segment": "New",
        "window": window,
        "reminded": 1,
        "rate": 100.0,
        "amount": 2000,
        "held_out": 0,
        "held_out_rate": None,
        "difference": "",
        "attributable": None,
        "verdict": "",
    }
    assert (rows[("Loyal", window)]["reminded"], rows[("Loyal", window)]["rate"]) == (1, 0.0)  # after 48 h
    sent, paid_ = report.chart.series
    assert sent.values[:2] == [2, 1] and paid_.values[:2] == [0, 1]  # counted on the last reminder's day
    summary = {label: value for label, value, _ in report.summary}
    assert (summary["Reminders sent"], summary["Orders reminded"], summary["Amount recovered"]) == (
        3,
        2,
        2000,
    )
    assert summary["Paid within 48 h"] == 50.0 and summary["Orders held out"] == 0


# Pages ---------------------------------------------------------------------------------------------------


class _Table(HTMLParser):
    """The cells of the first table with class report-table, row by row."""

    def __init__(self):
        super().__init__()
        self.rows, self._cell, self._depth, self._done = [], None, 0, False

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if tag == "table" and "report-table" in classes and not self._done and not self._depth:
            self._depth = 1
        elif self._depth and tag == "tr":
            self.rows.append([])
        elif self._depth and tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if self._depth and tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join(self._cell.split()))
            self._cell = None
        elif self._depth and tag == "table":
            self._depth, self._done = 0, True

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def table_of(html):
    parser = _Table()
    parser.feed(html)
    return parser.rows


def plain(cell):
    """A table cell as the CSV writes it: amounts without currency sign or grouping."""
    if cell == "–":
        return ""
    if re.fullmatch(r"[€£$]?-?[0-9,]+(\.[0-9]+)?( %)?|-[€£$][0-9,.]+", cell):
        return re.sub(r"[^0-9.\-]", "", cell)
    return cell


@pytest.fixture
def history(ctx, make_customer):
    customer = make_customer()
    set_credit_limit(customer, 10_000)
    today = datetime.date.today()
    for days_back, category, amount in ((40, "deposit", 12345), (20, "bonus", 500), (3, "hold", -20000)):
        move(customer, category, amount, today - datetime.timedelta(days=days_back))
    order = paid(customer, today - datetime.timedelta(days=2), funds=1234, card=100000)
    reminder_row(order, at(today - datetime.timedelta(days=2), 10))
    return customer


@pytest.mark.parametrize(
    "key", ["sales", "deposits", "roll-forward", "usage", "order-value", "credit", "reminders"]
)
def test_csv_holds_exactly_the_rows_of_the_table(client, owner, history, key):
    sign_in(client, owner)
    today = datetime.date.today()
    query = f"date_from={today - datetime.timedelta(days=60)}&date_to={today}&by=month"  # two days: custom
    page = client.get(f"/admin/reports/{key}?{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    download = client.get(f"/admin/reports/{key}.csv?{query}")
    assert download.status_code == 200
    assert download.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    table = table_of(html)
    assert [[plain(cell) for cell in row] for row in table] == rows
    assert len(rows) > 1


def test_report_pages_read_for_staff(client, staff, history):
    sign_in(client, staff)
    for path in ("/admin/reports", "/admin/reports/deposits", "/admin/reports/credit"):
        assert client.get(path).status_code == 200
    assert client.get("/admin/reports/nothing-here").status_code == 404
    assert client.get("/admin/reports/nothing-here.csv").status_code == 404


def test_report_pages_are_not_for_customers(customer_client):
    assert customer_client.get("/admin/reports/deposits").status_code == 403
    assert customer_client.get("/admin/reports/deposits.csv").status_code == 403


def test_the_chart_is_plain_svg_the_policy_allows(client, owner, history):
    sign_in(client, owner)
    for key in ("sales", "deposits", "roll-forward", "order-value"):
        html = client.get(f"/admin/reports/{key}?period=this_year").get_data(as_text=True)
        svg = html[html.index("<svg") : html.index("</svg>")]
        assert 'viewBox="0 0 ' in svg and "<title" in svg and "<rect" in svg
        assert "<script" not in svg and "<style" not in svg and "style=" not in svg


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=custom&date_from=2026-05-10&date_to=2026-05-01", "The last day is before the first day."),
        ("period=custom&date_from=1999-12-31&date_to=2026-05-01", "Choose a day from 1 January 2000 on."),
        ("period=custom&date_from=2026-13-45&date_to=2026-05-01", "Not a valid date value."),
        ("period=custom&date_from=99999-01-01&date_to=2026-05-01", "Not a valid date value."),
        ("period=custom&date_from=2026-05-01", "Enter both days of the period, like 2026-11-30."),
        ("period=custom&date_from=2999-01-01&date_to=2999-02-01", "Choose a first day on or before today."),
        ("period=forever", "Choose one of the periods."),
        ("group=99999", "Choose one of the shop's groups."),
        ("group=abc", "Choose one of the shop's groups."),
        ("customer=nobody%40example.com", "No customer has this email address."),
    ],
)
def test_bad_filters_get_a_clear_message_and_keep_what_was_typed(client, owner, query, message):
    sign_in(client, owner)
    response = client.get(f"/admin/reports/deposits?{query}")
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert message in html and "There is a problem" in html
    assert "Top-ups" not in html  # no figures for filters that cannot be read
    if "date_from=2026-05-10" in query:
        assert 'value="2026-05-10"' in html and 'value="2026-05-01"' in html
    csv_response = client.get(f"/admin/reports/deposits.csv?{query}")
    assert csv_response.status_code == 422 and message in csv_response.get_data(as_text=True)


def test_a_huge_range_is_cut_to_two_years_with_a_note(client, owner):
    sign_in(client, owner)
    response = client.get("/admin/reports/deposits?period=custom&date_from=2000-01-01&date_to=2026-01-31")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "A report covers at most 732 days: it starts on 2024-01-31." in html


def test_a_customer_filter_by_email_and_htmx_gets_only_the_body(client, owner, history):
    sign_in(client, owner)
    email = history.email.upper()
    response = client.get(
        f"/admin/reports/usage?period=this_year&customer={email}", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="report-body"') and "<html" not in html
    assert history.display_name in html
    assert "HX-Request" in response.headers["Vary"]


def test_the_dashboard_shows_what_the_shop_holds_and_owes(client, owner, history):
    sign_in(client, owner)
    html = client.get("/admin/").get_data(as_text=True)
    for text in (
        "Held for customers",
        "Owed on credit",
        "Deposits, last 7 days",
        "Awaiting payment",
        "Approvals",
    ):
        assert text in html, text
    assert "€71.55" in html  # owed: 123.45 + 5.00 − 200.00
    today = datetime.date.today()
    move(history, "deposit", 2_500, today - datetime.timedelta(days=1))
    move(history, "deposit", 1_000, today - datetime.timedelta(days=9))
    html = client.get("/admin/").get_data(as_text=True)
    deposits_card = html.split("Deposits, last 7 days")[1].split("</article>")[0]
    assert "€25.00" in deposits_card and "Up from €10.00 the 7 days before" in deposits_card
    paid_card = html.split("Paid from balances, last 7 days")[1].split("</article>")[0]
    assert "€12.34" in paid_card and "up from €0.00" in paid_card  # the order paid 2 days ago


def test_the_funds_settings_show_the_median_order_and_the_most_bought_product(client, owner, history):
    sign_in(client, owner)
    html = client.get("/admin/settings").get_data(as_text=True)
    assert "Median order value over the last 90 days" in html and "1,012.34" in html


def test_stray_parameters_never_break_a_report_or_leak_into_its_links(client, owner):
    sign_in(client, owner)
    for query in ("key=x", "_method=POST", "_anchor=top", "next=//evil.example", "customer=%00"):
        response = client.get(f"/admin/reports/deposits?{query}&period=7d")
        assert response.status_code in (200, 422), query
        html = response.get_data(as_text=True)
        assert "evil.example" not in html.split("<search>")[0] and "_anchor" not in html
    refused = client.get("/admin/reports/deposits?customer=%00").get_data(as_text=True)
    assert "Customer email contains characters we can&#39;t store" in refused


def test_a_group_and_a_customer_together_are_refused(client, owner, history):
    sign_in(client, owner)
    group = new_group()
    response = client.get(f"/admin/reports/deposits?group={group.id}&customer={history.email}")
    assert response.status_code == 422
    assert "Choose a customer group or one customer, not both." in response.get_data(as_text=True)


def test_labels_carry_the_year_across_years_and_a_cut_week_says_from(ctx):
    by_day = deposits(Scope(datetime.date(2025, 12, 30), datetime.date(2026, 1, 2), "day"))
    assert [row["period"] for row in by_day.rows] == [
        "30 Dec 2025",
        "31 Dec 2025",
        "1 Jan 2026",
        "2 Jan 2026",
    ]
    by_week = deposits(Scope(datetime.date(2026, 11, 4), datetime.date(2026, 11, 16), "week"))
    assert [row["period"] for row in by_week.rows] == ["from 4 Nov", "w/c 9 Nov", "w/c 16 Nov"]


def test_csv_text_that_a_spreadsheet_would_run_is_quoted(app):

    with app.test_request_context():
        assert csv_value("=HYPERLINK(1)", "text") == "'=HYPERLINK(1)"
        assert csv_value("+1", "text") == "'+1" and csv_value("@x", "text") == "'@x"
        assert csv_value("w/c 9 Nov", "text") == "w/c 9 Nov"
        assert csv_value(-1250, "money") == "-12.50"
