"""Account funds: top-ups through the sandbox provider, notifications, reconciliation, history."""

import csv
import datetime
import io
import json
import re

import pytest

import models.funds.history
import views.funds.funds
from jobs.funds import deliver_sandbox_notifications
from jobs.funds import reconcile_pending_top_ups
from models.base import utcnow
from models.funds.customer_accounts import account_for
from models.funds.customer_accounts import balance_of
from models.funds.history import all_entries
from models.funds.ledger import Entry
from models.funds.ledger import Journal
from models.funds.ledger import Leg
from models.funds.ledger import PROVIDER_CLEARING
from models.funds.ledger import system_account
from models.funds.ledger import transfer
from models.funds.top_ups import complete_top_up
from models.funds.top_ups import FundsError
from models.funds.top_ups import reconcile_top_ups
from models.funds.top_ups import start_top_up
from models.funds.top_ups import TopUp
from models.groups.group import CustomerGroup
from models.users.user import User
from payments import sandbox
from payments.sandbox import SandboxNotification
from payments.sandbox import SandboxPayment
from payments.sandbox import SIGNATURE_HEADER
from tests.conftest import csrf_token
from tests.conftest import post_form
from tests.conftest import sign_in

KEY = "k" * 22
NOTIFY = "/payments/sandbox/notifications"


@pytest.fixture(autouse=True)
def the_app(app):
    """The sandbox reads its secret and delay from the app's config (an app context per call)."""
    the_app.current = app
    return app


def in_app(function):
    def call(*args, **kwargs):
        with the_app.current.app_context():
            return function(*args, **kwargs)

    return call


sign = in_app(sandbox.sign)
choose = in_app(sandbox.choose)
deliver_due_notifications = in_app(sandbox.deliver_due_notifications)


def start(client, amount="25", key=KEY):
    return post_form(
        client, "/account/funds/top-up", {"amount": amount, "idempotency_key": key}, page="/account/funds"
    )


def decide(client, sandbox_url, outcome):
    token = csrf_token(client, sandbox_url)
    return client.post(sandbox_url, data={"outcome": outcome, "csrf_token": token})


def notify(client, body):
    raw = json.dumps(body)
    return client.post(
        NOTIFY, data=raw, headers={SIGNATURE_HEADER: sign(raw)}, content_type="application/json"
    )


def event(payment, status="succeeded", **changes):
    body = {
        "id": "evt_test",
        "payment_id": payment.public_id,
        "status": status,
        "amount": payment.amount,
        "currency": payment.currency,
    }
    body.update(changes)
    return body


def journals():
    return Journal.select().count()


@pytest.fixture
def started(customer_client, customer):
    """A started top-up of 25.00: (top_up, sandbox payment, sandbox URL)."""
    response = start(customer_client)
    assert response.status_code == 303
    top_up = TopUp.get(TopUp.user == customer)
    return (
        top_up,
        SandboxPayment.get(SandboxPayment.public_id == top_up.provider_payment_id),
        response.location,
    )


@pytest.fixture
def bonus_group(app):
    CustomerGroup.update(bonus_threshold=5000, bonus_amount=500).where(
        CustomerGroup.is_default == True
    ).execute()  # noqa: E712


# The funds page and the top-up form -------------------------------------------------


def test_funds_page_shows_balance_credit_and_spendable(customer_client, customer):
    account = account_for(customer)
    transfer(
        "seed",
        "top_up",
        [Leg(account, 1234, "deposit"), Leg(system_account(PROVIDER_CLEARING), -1234, "deposit")],
    )
    html = customer_client.get("/account/funds").get_data(as_text=True)
    assert "Balance" in html and "Available credit" in html and "You can spend" in html
    assert "12.34" in html
    dashboard = customer_client.get("/account/").get_data(as_text=True)
    assert "12.34" in dashboard and 'href="/account/funds"' in dashboard


def test_funds_page_needs_sign_in(client):
    assert client.get("/account/funds").status_code == 302


def test_presets_fit_the_group_limits_and_show_the_bonus(customer_client, bonus_group):
    html = customer_client.get("/account/funds").get_data(as_text=True)
    assert re.findall(r'name="amount" value="([0-9.]+)"', html) == ["20.00", "50.00", "100.00"]
    assert "+ €5.00 bonus" in html
    CustomerGroup.update(own_limits=True, topup_min=3000, topup_max=6000).execute()
    html = customer_client.get("/account/funds").get_data(as_text=True)
    assert re.findall(r'name="amount" value="([0-9.]+)"', html) == ["50.00"]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an amount"),
        ("0", "above zero"),
        ("-1", "using digits"),
        ("NaN", "using digits"),
        ("Infinity", "using digits"),
        ("1e3", "using digits"),
        ("12.345", "at most 2 decimals"),
        ("٣", "using digits"),
        ("9.99", "The smallest top-up is €10.00"),
        ("1000.01", "The largest top-up is €1,000.00"),
        ("99999999999", "using digits"),
    ],
)
def test_bad_amounts_are_refused_with_a_clear_message_and_kept(customer_client, typed, message):
    response = start(customer_client, typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert "There is a problem" in html and 'aria-invalid="true"' in html
    assert f'value="{typed}"' in html if typed else True
    assert TopUp.select().count() == 0 and SandboxPayment.select().count() == 0


def test_an_expired_or_forged_form_key_is_refused(customer_client):
    response = start(customer_client, "25", key="<script>")
    assert response.status_code == 422
    assert TopUp.select().count() == 0


def test_without_csrf_nothing_starts(customer_client):
    response = customer_client.post("/account/funds/top-up", data={"amount": "25", "idempotency_key": KEY})
    assert response.status_code == 400
    assert TopUp.select().count() == 0


def test_a_blocked_customer_cannot_top_up(app, customer):

    User.update(blocked_at=utcnow()).where(User.id == customer.id).execute()
    with app.test_request_context(), pytest.raises(FundsError, match="can't make payments"):
        start_top_up(customer, 2500, KEY)
    assert TopUp.select().count() == 0


def test_the_same_form_twice_starts_one_payment(customer_client, customer):
    first = start(customer_client)
    second = start(customer_client)
    assert first.status_code == second.status_code == 303
    assert first.location == second.location
    assert TopUp.select().count() == 1 and SandboxPayment.select().count() == 1


def test_the_same_key_with_another_amount_is_refused(customer_client):
    start(customer_client, "25")
    response = start(customer_client, "30")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "different amount" in html
    assert TopUp.select().count() == 1
    # The form comes back with a fresh key, so the corrected amount starts its own top-up.
    fresh_key = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="idempotency_key" name="idempotency_key" type="hidden" value="([^"]+)"', html
    )
    assert fresh_key and fresh_key.group(1) != KEY
    assert start(customer_client, "30", key=fresh_key.group(1)).status_code == 303
    assert TopUp.select().count() == 2


def test_two_customers_with_the_same_form_key_get_their_own_top_ups(app, make_customer):
    alice, bob = make_customer(), make_customer()
    with app.test_request_context():
        first = start_top_up(alice, 2500, KEY)
        second = start_top_up(bob, 2500, KEY)
    assert first.id != second.id and first.provider_payment_id != second.provider_payment_id


# Outcomes ------------------------------------------------------------------------------


def test_approve_credits_once_and_shows_the_new_balance(customer_client, customer, started):
    top_up, payment, sandbox_url = started
    assert "Pay €25.00" in customer_client.get(sandbox_url).get_data(as_text=True)
    response = decide(customer_client, sandbox_url, "approve")
    assert response.status_code == 303
    assert response.location == f"/account/funds/top-ups/{top_up.id}"
    html = customer_client.get(response.location).get_data(as_text=True)
    assert "25.00 added to your balance" in html
    assert "no VAT is charged on a top-up; VAT is charged on the goods when you spend them" in html
    assert balance_of(customer) == 2500
    # The notification was delivered to the real endpoint and accepted.
    assert SandboxNotification.get().last_status == 200
    # Choosing again, reloading, a second tab: nothing more.
    assert "already approved" in customer_client.get(sandbox_url).get_data(as_text=True)
    token = csrf_token(customer_client, "/account/funds")
    again = customer_client.post(sandbox_url, data={"outcome": "decline", "csrf_token": token})
    assert again.status_code == 303
    customer_client.get(response.location)
    assert balance_of(customer) == 2500 and journals() == 1


def test_return_first_then_notification_credits_once(customer_client, customer, started):
    top_up, payment, sandbox_url = started
    choose(payment, "approve")  # approved at the provider, notification not delivered yet
    html = customer_client.get(f"/account/funds/top-ups/{top_up.id}").get_data(as_text=True)
    assert "added to your balance" in html
    assert balance_of(customer) == 2500
    assert deliver_due_notifications() == 1  # accepted: a replay is fine
    assert balance_of(customer) == 2500 and journals() == 1


def test_notification_first_then_return_credits_once(customer_client, customer, started):
    top_up, payment, sandbox_url = started
    choose(payment, "approve")
    assert notify(customer_client, event(payment)).status_code == 200
    assert notify(customer_client, event(payment)).status_code == 200  # a replayed webhook
    assert balance_of(customer) == 2500
    assert "added to your balance" in customer_client.get(f"/account/funds/top-ups/{top_up.id}").get_data(
        as_text=True
    )
    assert balance_of(customer) == 2500 and journals() == 1


def test_decline_moves_no_money(customer_client, customer, started):
    top_up, payment, sandbox_url = started
    response = decide(customer_client, sandbox_url, "decline")
    html = customer_client.get(response.location).get_data(as_text=True)
    assert "didn't go through" in html
    assert balance_of(customer) == 0 and journals() == 0
    assert TopUp.get_by_id(top_up.id).state == "failed"


def test_lost_return_says_close_the_window_and_still_credits(customer_client, customer, started):
    top_up, payment, sandbox_url = started
    response = decide(customer_client, sandbox_url, "lost")
    assert response.location == sandbox_url
    assert "You can close this window" in customer_client.get(sandbox_url).get_data(as_text=True)
    assert balance_of(customer) == 2500
    assert "Added" in customer_client.get("/account/funds").get_data(as_text=True)


def test_late_notification_shows_being_confirmed_until_the_job_delivers(
    app, customer_client, customer, started
):
    top_up, payment, sandbox_url = started
    response = decide(customer_client, sandbox_url, "late")
    page = customer_client.get(response.location)
    html = page.get_data(as_text=True)
    assert "Payment being confirmed" in html
    assert 'hx-trigger="load delay:2s"' in html and "Check again" in html
    # The poll answers with the fragment only, which polls again while pending.
    fragment = customer_client.get(response.location, headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith("{#") is False
    assert "<html" not in fragment.get_data(as_text=True)
    assert 'hx-trigger="load delay:2s"' in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]
    assert balance_of(customer) == 0
    # Nothing is due yet; once the provider has decided, the tick delivers the notification.
    with app.app_context():
        assert deliver_sandbox_notifications(datetime.datetime.now(datetime.UTC)) == 0
        later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=60)
        assert deliver_sandbox_notifications(later) == 1
    assert balance_of(customer) == 2500
    fragment = customer_client.get(response.location, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "added to your balance" in fragment and "hx-trigger" not in fragment


def test_reconciliation_credits_a_pending_top_up_after_a_few_minutes(app, customer, started):
    top_up, payment, sandbox_url = started
    choose(payment, "late")
    now = datetime.datetime.now(datetime.UTC)
    # Time passes: the provider has decided (its notification is still on the way).
    SandboxPayment.update(settles_at=utcnow()).where(SandboxPayment.id == payment.id).execute()
    with app.app_context():
        assert reconcile_pending_top_ups(now + datetime.timedelta(minutes=1)) == 0  # too early to ask
        assert reconcile_pending_top_ups(now + datetime.timedelta(minutes=5)) == 1
    assert balance_of(customer) == 2500
    assert TopUp.get_by_id(top_up.id).state == "succeeded"
    with app.app_context():  # the late notification arrives after all: nothing more
        deliver_due_notifications(utcnow() + datetime.timedelta(minutes=5))
    assert balance_of(customer) == 2500 and journals() == 1


def test_reconciliation_gives_up_on_an_abandoned_payment_but_a_late_success_still_credits(
    app, customer_client, customer, started
):
    top_up, payment, sandbox_url = started
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=25)
    assert reconcile_top_ups(later) == 1
    assert TopUp.get_by_id(top_up.id).state == "failed"
    choose(payment, "approve")
    assert notify(customer_client, event(payment)).status_code == 200
    assert TopUp.get_by_id(top_up.id).state == "succeeded" and balance_of(customer) == 2500


def test_a_failure_notice_after_success_changes_nothing(customer_client, customer, started):
    top_up, payment, sandbox_url = started
    decide(customer_client, sandbox_url, "approve")
    assert notify(customer_client, event(payment, "failed")).status_code == 200
    assert TopUp.get_by_id(top_up.id).state == "succeeded"
    assert balance_of(customer) == 2500
    html = customer_client.get(f"/account/funds/top-ups/{top_up.id}").get_data(as_text=True)
    assert "added to your balance" in html and "didn't go through" not in html


@pytest.mark.parametrize(
    "forge",
    [
        "bad signature",
        "no signature",
        "amount mismatch",
        "currency mismatch",
        "unreadable",
        "unknown provider",
    ],
)
def test_forged_notifications_move_no_money(customer_client, customer, started, forge):
    top_up, payment, sandbox_url = started
    choose(payment, "approve")
    body = json.dumps(event(payment))
    headers = {SIGNATURE_HEADER: sign(body)}
    path = NOTIFY
    if forge == "bad signature":
        headers = {SIGNATURE_HEADER: "0" * 64}
    elif forge == "no signature":
        headers = {}
    elif forge == "amount mismatch":
        body = json.dumps(event(payment, amount=250000))
        headers = {SIGNATURE_HEADER: sign(body)}
    elif forge == "currency mismatch":
        body = json.dumps(event(payment, currency="USD"))
        headers = {SIGNATURE_HEADER: sign(body)}
    elif forge == "unreadable":
        body = "not json"
        headers = {SIGNATURE_HEADER: sign(body)}
    elif forge == "unknown provider":
        path = "/payments/acme/notifications"
    response = customer_client.post(path, data=body, headers=headers, content_type="application/json")
    assert response.status_code == 400
    assert balance_of(customer) == 0 and journals() == 0
    assert TopUp.get_by_id(top_up.id).state == "pending"


def test_a_notification_about_a_payment_that_isnt_ours_is_acknowledged_and_moves_nothing(
    customer_client, customer, started
):
    """Authentic, but about no payment of this shop: answered 200 so the provider stops sending it."""
    top_up, payment, sandbox_url = started
    choose(payment, "approve")
    assert notify(customer_client, event(payment, payment_id="sbx_nope")).status_code == 200
    assert balance_of(customer) == 0 and journals() == 0
    assert TopUp.get_by_id(top_up.id).state == "pending"


def test_bonus_is_posted_once_with_its_category(customer_client, customer, bonus_group):
    response = start(customer_client, "50")
    top_up = TopUp.get(TopUp.user == customer)
    assert top_up.bonus == 500
    decide(customer_client, response.location, "approve")
    complete_top_up(top_up)
    customer_client.get(f"/account/funds/top-ups/{top_up.id}")
    assert balance_of(customer) == 5500
    entries = Entry.select().where(Entry.account == account_for(customer))
    assert sorted((e.category, e.amount) for e in entries) == [("bonus", 500), ("deposit", 5000)]
    assert "Plus your bonus of €5.00" in customer_client.get(f"/account/funds/top-ups/{top_up.id}").get_data(
        as_text=True
    )


def test_below_the_bonus_threshold_there_is_no_bonus(customer_client, customer, bonus_group):
    start(customer_client, "49.99")
    assert TopUp.get(TopUp.user == customer).bonus == 0


def test_another_customers_top_up_is_not_found(client, started, make_customer):
    top_up, payment, sandbox_url = started
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/account/")})
    sign_in(client, make_customer())
    assert client.get(f"/account/funds/top-ups/{top_up.id}").status_code == 404
    assert client.get("/account/funds/top-ups/999999").status_code == 404


# History ---------------------------------------------------------------------------------


@pytest.fixture
def movements(customer):
    """30 deposits of 1.00 and 5 spends of 0.50, oldest first."""
    account = account_for(customer)
    clearing = system_account(PROVIDER_CLEARING)
    sales = system_account("sales")
    for n in range(30):
        transfer(
            f"d{n}",
            "top_up",
            [Leg(account, 100, "deposit"), Leg(clearing, -100, "deposit")],
            memo=f"Deposit {n}",
        )
    for n in range(5):
        transfer(f"s{n}", "order", [Leg(account, -50, "spend"), Leg(sales, 50, "spend")], memo=f"=Order {n}")


def page_link(html, rel):
    """The href of the history pager's Newer (rel="prev") or Older (rel="next") link, or None."""
    match = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return match.group(1).replace("&amp;", "&") if match else None


def memos(html):
    return re.findall(r'class="stack-table__title">([^<]+)<', html)


def test_history_lists_movements_with_running_balance_and_pages(customer_client, movements):
    html = customer_client.get("/account/funds/history").get_data(as_text=True)
    assert "35 movements" in html
    assert memos(html)[:6] == ["=Order 4", "=Order 3", "=Order 2", "=Order 1", "=Order 0", "Deposit 29"]
    assert len(memos(html)) == 25 and memos(html)[-1] == "Deposit 10"
    assert "27.50" in html  # running balance after the last spend
    assert page_link(html, "prev") is None  # the newest page
    older = customer_client.get(page_link(html, "next")).get_data(as_text=True)
    assert memos(older) == [f"Deposit {n}" for n in range(9, -1, -1)] and "1.00" in older
    assert "35 movements" in older and page_link(older, "next") is None  # the oldest page
    newer = customer_client.get(page_link(older, "prev")).get_data(as_text=True)
    assert memos(newer) == memos(html) and page_link(newer, "prev") is None


@pytest.mark.parametrize(
    "link", ["?page=2", "?before=abc", "?after=-1", "?before=99999999", "?before=1&after=x"]
)
def test_a_history_link_that_is_not_a_page_of_the_customer_shows_the_newest(customer_client, movements, link):
    response = customer_client.get(f"/account/funds/history{link}")
    assert response.status_code == 200
    assert memos(response.get_data(as_text=True))[0] == "=Order 4"


def test_another_customers_entry_is_no_page_of_mine(client, movements, customer, make_customer):
    theirs = Entry.select().where(Entry.account == account_for(customer)).order_by(Entry.id).first()
    sign_in(client, make_customer())
    html = client.get(f"/account/funds/history?after={theirs.id}").get_data(as_text=True)
    assert "No movements yet" in html and "Deposit" not in html


def test_history_pages_keep_the_filter(customer_client, movements):
    html = customer_client.get("/account/funds/history?category=deposit").get_data(as_text=True)
    assert "30 movements" in html and memos(html)[0] == "Deposit 29"
    older = page_link(html, "next")
    assert "category=deposit" in older
    html = customer_client.get(older).get_data(as_text=True)
    assert memos(html) == [f"Deposit {n}" for n in range(4, -1, -1)]
    assert "category=deposit" in page_link(html, "prev")


def test_history_counts_up_to_a_cap(customer_client, movements, monkeypatch):

    monkeypatch.setattr(models.funds.history, "COUNT_CAP", 30)
    monkeypatch.setattr(views.funds.funds, "COUNT_CAP", 30)
    assert "More than 30 movements" in customer_client.get("/account/funds/history").get_data(as_text=True)
    html = customer_client.get("/account/funds/history?category=deposit").get_data(as_text=True)
    assert "30 movements" in html and "More than" not in html


def test_history_filters_by_category(customer_client, movements):
    html = customer_client.get("/account/funds/history?category=spend").get_data(as_text=True)
    assert "5 movements" in html and "Deposit" not in html
    assert customer_client.get("/account/funds/history?category=bogus").status_code == 200


def test_history_csv_has_the_filtered_rows(customer_client, movements):
    response = customer_client.get("/account/funds/history.csv?category=spend")
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["date", "description", "category"]
    assert len(rows) == 6 and {row[2] for row in rows[1:]} == {"spend"}
    assert rows[1][1] == "'=Order 4"  # no formula injection
    assert rows[1][5:] == ["-50", "2750"]
    everything = list(
        csv.reader(io.StringIO(customer_client.get("/account/funds/history.csv").get_data(as_text=True)))
    )
    assert len(everything) == 36


def test_history_shows_only_the_customers_own_movements(client, movements, make_customer):
    sign_in(client, make_customer())
    html = client.get("/account/funds/history").get_data(as_text=True)
    assert "No movements" in html
    assert (
        len(list(csv.reader(io.StringIO(client.get("/account/funds/history.csv").get_data(as_text=True)))))
        == 1
    )


def test_history_filters_by_period_and_the_csv_follows(customer_client, customer):
    account = account_for(customer)
    clearing = system_account(PROVIDER_CLEARING)
    for day in (1, 10, 20):
        transfer(
            f"day{day}",
            "top_up",
            [Leg(account, 100 * day, "deposit"), Leg(clearing, -100 * day, "deposit")],
            memo=f"Deposit on day {day}",
            now=datetime.datetime(2025, 3, day, 12, 0),
        )
    html = customer_client.get("/account/funds/history?since=2025-03-05&until=2025-03-15").get_data(
        as_text=True
    )
    assert "1 movement," in html and "Deposit on day 10" in html and "day 20" not in html
    rows = list(
        csv.reader(
            io.StringIO(
                customer_client.get("/account/funds/history.csv?since=2025-03-10").get_data(as_text=True)
            )
        )
    )
    assert [row[1] for row in rows[1:]] == ["Deposit on day 20", "Deposit on day 10"]
    # An unreadable date is ignored with a message, never a 500.
    response = customer_client.get("/account/funds/history?since=yesterday")
    assert response.status_code == 200 and "3 movements" in response.get_data(as_text=True)


def test_csv_reads_every_row_in_batches(customer, movements):

    assert len(list(all_entries(customer, batch=7))) == 35
    assert len(list(all_entries(customer, category="spend", batch=2))) == 5


def test_the_sandbox_is_closed_when_a_real_provider_is_configured(app, customer_client, started):
    top_up, payment, sandbox_url = started
    assert "Test mode" in customer_client.get("/account/funds").get_data(as_text=True)
    app.config["PAYMENT_PROVIDER"] = "acme"
    assert customer_client.get(sandbox_url).status_code == 404
    token = csrf_token(customer_client, "/account/funds")
    assert (
        customer_client.post(sandbox_url, data={"outcome": "approve", "csrf_token": token}).status_code == 404
    )
    assert balance_of(top_up.user) == 0 and TopUp.get_by_id(top_up.id).state == "pending"
