"""The owner putting a customer into a group, moving them and taking them out (issue 21):
the domain function (models/groups/management.py put_in_group) and the customer pages."""

import re

import pytest

from models.funds.customer_accounts import account_for
from models.groups.applications import apply_for
from models.groups.applications import APPROVED
from models.groups.applications import GroupApplication
from models.groups.applications import PENDING
from models.groups.group import CustomerGroup
from models.groups.group import default_group
from models.groups.group import GroupError
from models.groups.group import settings_for
from models.groups.management import group_change
from models.groups.management import put_in_group
from models.groups.management import retire_group
from models.shop.audit import AuditEntry
from models.shop.outbox import OutboxMessage
from models.users.user import User
from tests.accounts.test_mail_requests import statements
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.factories import fund


def group(name):
    return CustomerGroup.get(CustomerGroup.name == name)


@pytest.fixture
def trade(app):
    """A group nobody can apply for, whose members pay on account up to 250.00."""
    return CustomerGroup.create(
        name="Trade",
        perks="Pay on account, up to 250 a month.",
        pay_on_account=True,
        own_limits=True,
        default_credit_limit=25000,
    )


def emails_to(address):
    return list(OutboxMessage.select().where(OutboxMessage.to_address == address).order_by(OutboxMessage.id))


# The domain function -------------------------------------------------------------------------


def test_the_owner_puts_a_customer_into_a_group_and_the_credit_limit_follows(app, customer, owner, trade):
    account_for(customer)  # opened with Basic's limit: nothing on account
    assert account_for(customer).credit_limit == 0
    with app.test_request_context():
        change = put_in_group(customer, trade, owner, "Buys for his café every week")
    assert settings_for(customer).group_name == "Trade"
    assert account_for(customer).credit_limit == 25000
    assert (change.before.name, change.after.name, change.is_removal) == ("Basic", "Trade", False)
    limit = change.differences[0]
    assert (limit.label, limit.before, limit.after) == ("Credit limit", 0, 25000)
    entry = AuditEntry.get(AuditEntry.action == "customer_group_changed")
    assert entry.actor_id == owner.id and str(customer.id) in entry.target
    assert entry.before_data == {"group": "Basic", "credit_limit": 0}
    assert entry.after_data == {
        "group": "Trade",
        "credit_limit": 25000,
        "note": "Buys for his café every week",
        "application_approved": False,
    }
    (message,) = emails_to(customer.email)
    assert message.kind == "group_changed" and "Trade" in message.subject
    assert "Pay on account, up to 250 a month." in message.text_body
    assert "Buys for his café" not in message.text_body  # the note is for the shop's records


def test_moving_between_groups_and_taking_a_customer_out(app, customer, owner, trade):
    vip = group("VIP")
    with app.test_request_context():
        put_in_group(customer, trade, owner)
        moved = put_in_group(customer, vip, owner)
        assert account_for(customer).credit_limit == 0  # VIP doesn't pay on account
        assert settings_for(customer).funds_discount_bp == 200
        assert {(d.label, d.before, d.after) for d in moved.differences} >= {
            ("Credit limit", 25000, 0),
            ("Pays on account", True, False),
            ("Discount when paying with funds", 0, 200),
        }
        removed = put_in_group(customer, default_group(), owner, "Left the trade scheme")
    assert removed.is_removal and settings_for(customer).group_name == "Basic"
    mails = emails_to(customer.email)
    assert [m.kind for m in mails] == ["group_changed"] * 3  # removal too: they lose the group's terms
    assert mails[-1].subject.startswith("Your membership has changed")
    assert "has moved you from VIP back to Basic" in mails[-1].text_body
    actions = [
        (e.before_data["group"], e.after_data["group"])
        for e in AuditEntry.select()
        .where(AuditEntry.action == "customer_group_changed")
        .order_by(AuditEntry.id)
    ]
    assert actions == [("Basic", "Trade"), ("Trade", "VIP"), ("VIP", "Basic")]


def test_a_personal_credit_limit_follows_into_a_group_that_pays_on_account(app, customer, owner, trade):
    User.update(personal_credit_limit=7000).where(User.id == customer.id).execute()
    customer = User.get_by_id(customer.id)
    assert group_change(customer, trade).differences[0].after == 7000
    with app.test_request_context():
        put_in_group(customer, trade, owner)
    assert account_for(customer).credit_limit == 7000


def test_a_group_with_referral_links_gives_one_as_an_approved_application_does(app, customer, owner):
    with app.test_request_context():
        put_in_group(customer, group("Affiliate"), owner)
    assert User.get_by_id(customer.id).referral_code


def test_their_pending_application_for_that_group_is_approved_with_it(app, customer, owner, trade):
    vip_application = apply_for(customer, group("VIP").id, "please")
    affiliate_application = apply_for(customer, group("Affiliate").id)
    assert group_change(customer, group("VIP")).approves_application
    with app.test_request_context():
        put_in_group(customer, group("VIP"), owner)
    approved = GroupApplication.get_by_id(vip_application.id)
    assert approved.state == APPROVED and approved.decided_by_id == owner.id
    assert GroupApplication.get_by_id(affiliate_application.id).state == PENDING  # still the owner's call
    entry = AuditEntry.get(AuditEntry.action == "customer_group_changed")
    assert entry.after_data["application_approved"] is True


def test_staff_are_refused_and_nothing_changes(app, customer, staff, trade):
    with app.test_request_context(), pytest.raises(GroupError, match="Only the owner"):
        put_in_group(customer, trade, staff)
    assert settings_for(customer).group_name == "Basic"
    assert not AuditEntry.select().exists() and not emails_to(customer.email)


def test_the_same_group_a_closed_group_or_a_gone_customer_are_refused(app, customer, owner, trade):
    with app.test_request_context():
        with pytest.raises(GroupError, match="already in Basic"):
            put_in_group(customer, default_group(), owner)
        retire_group(trade, default_group(), owner)
        with pytest.raises(GroupError, match="closed"):
            put_in_group(customer, CustomerGroup.get_by_id(trade.id), owner)
        User.update(deleted_at=User.created_at).where(User.id == customer.id).execute()
        with pytest.raises(GroupError, match="gone"):
            put_in_group(customer, group("VIP"), owner)


def test_a_paused_customer_is_moved_without_an_email(app, customer, owner):
    User.update(blocked_at=User.created_at).where(User.id == customer.id).execute()
    with app.test_request_context():
        change = put_in_group(User.get_by_id(customer.id), group("VIP"), owner)
    assert not change.emails_customer and not emails_to(customer.email)
    assert settings_for(customer).group_name == "VIP"


# The pages --------------------------------------------------------------------------------------


def test_the_owner_checks_the_change_then_confirms_it(app, owner_client, customer, trade):
    page = owner_client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)
    assert "In <strong>Basic</strong>" in page and "Check the change" in page
    assert "Take them out of" not in page  # already in the default group
    check = post_form(
        owner_client,
        f"/admin/customers/{customer.id}/group",
        {"group_id": trade.id, "note": "Café owner"},
        page=f"/admin/customers/{customer.id}",
    )
    html = check.get_data(as_text=True)
    assert check.status_code == 200 and "Move Customer Tester to Trade?" in html
    row = re.search(r"Credit limit</th>\s*<td>(.*?)</td>\s*<td>(.*?)<", html)
    assert row and row.groups() == ("€0.00", "€250.00")
    assert "We'll email" in html and "Café owner" in html
    assert settings_for(customer).group_name == "Basic"  # nothing changed yet
    done = post_form(
        owner_client,
        f"/admin/customers/{customer.id}/group",
        {"group_id": trade.id, "note": "Café owner", "from_group_id": default_group().id, "step": "confirm"},
        page=f"/admin/customers/{customer.id}",
    )
    assert done.status_code == 303 and done.location.endswith(f"/admin/customers/{customer.id}#group-heading")
    assert settings_for(customer).group_name == "Trade" and account_for(customer).credit_limit == 25000
    page = owner_client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)
    assert "Customer Tester is now in Trade. We&#39;ve emailed them." in page
    assert "In <strong>Trade</strong>" in page and "Take them out of Trade" in page


def test_the_customer_sees_the_new_group_under_membership(app, owner_client, customer):
    post_form(
        owner_client,
        f"/admin/customers/{customer.id}/group",
        {"group_id": group("VIP").id, "step": "confirm"},
        page=f"/admin/customers/{customer.id}",
    )
    browser = app.test_client()
    sign_in(browser, customer)
    assert "You are in VIP" in browser.get("/account/membership").get_data(as_text=True)
    (message,) = emails_to(customer.email)
    for path in re.findall(r"http://shop\.test(/\S*)", message.text_body):
        assert browser.get(path).status_code == 200


def test_taking_a_customer_out_of_their_group(owner_client, make_customer):
    member = make_customer(group=group("VIP"))
    check = post_form(
        owner_client,
        f"/admin/customers/{member.id}/group",
        {"group_id": default_group().id},
        page=f"/admin/customers/{member.id}",
    )
    html = check.get_data(as_text=True)
    assert "out of VIP?" in html and "They go back to Basic, the default group." in html
    assert f"We'll email {member.email} to say they are back in Basic." in html
    post_form(
        owner_client,
        f"/admin/customers/{member.id}/group",
        {"group_id": default_group().id, "step": "confirm", "from_group_id": group("VIP").id},
        page=f"/admin/customers/{member.id}",
    )
    assert settings_for(member).group_name == "Basic"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"group_id": ""}, "Choose one of the groups listed."),
        ({"group_id": "x' OR 1=1"}, "Choose one of the groups listed."),
        ({"group_id": "99999"}, "Choose one of the groups listed."),
        ({"group_id": "BASIC"}, "Choose one of the groups listed."),
        ({"group_id": "VIP", "note": "x" * 501}, "Keep the note under 500 characters."),
        ({"group_id": "VIP", "from_group_id": "VIP", "step": "confirm"}, "in the meantime"),
    ],
)
def test_bad_choices_are_refused_and_the_note_is_kept(owner_client, customer, data, message):
    ids = {"VIP": str(group("VIP").id), "BASIC": str(default_group().id)}
    data = {key: ids.get(value, value) for key, value in data.items()}
    data.setdefault("note", "Typed by the owner")
    response = post_form(
        owner_client, f"/admin/customers/{customer.id}/group", data, page=f"/admin/customers/{customer.id}"
    )
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 422
    assert 'class="error-summary"' in html and message in html
    assert data["note"] in html
    assert settings_for(customer).group_name == "Basic"
    assert not AuditEntry.select().where(AuditEntry.action == "customer_group_changed").exists()


def test_staff_see_the_group_but_cannot_change_it(app, staff, customer):
    browser = app.test_client()
    sign_in(browser, staff)
    page = browser.get(f"/admin/customers/{customer.id}").get_data(as_text=True)
    assert "In <strong>Basic</strong>" in page and "Only the owner puts customers into groups." in page
    assert "Check the change" not in page
    response = post_form(
        browser,
        f"/admin/customers/{customer.id}/group",
        {"group_id": group("VIP").id, "step": "confirm"},
        page=f"/admin/customers/{customer.id}",
    )
    assert response.status_code == 403
    assert browser.get(f"/admin/customers/{customer.id}/group").status_code == 403
    assert settings_for(customer).group_name == "Basic"


# The customer list ------------------------------------------------------------------------------


def test_the_list_shows_each_customers_group_and_balance(owner_client, make_customer, trade):
    rich = make_customer(first_name="Rich")
    fund(rich, 12345)
    make_customer(first_name="Newbie")  # no ledger account yet
    member = make_customer(first_name="Member", group=trade)
    User.update(group=None).where(User.id == member.id).execute()  # a row from before groups: the default
    html = owner_client.get("/admin/customers").get_data(as_text=True)
    rows = {
        re.search(r">(\w+) Tester</a>", row).group(1): row
        for row in re.findall(r"<tr>(.*?)</tr>", html, re.S)
        if "Tester</a>" in row
    }
    assert 'data-label="Balance" class="numeric nowrap">€123.45<' in rows["Rich"]
    assert 'data-label="Group">Basic<' in rows["Rich"]
    assert "€0.00" in rows["Newbie"] and 'data-label="Group">Basic<' in rows["Newbie"]
    assert 'data-label="Group">Basic<' in rows["Member"]


def test_the_list_runs_the_same_statements_for_3_or_25_customers(owner_client, make_customer, trade):
    def listed():
        with statements() as seen:
            assert owner_client.get("/admin/customers").status_code == 200
        return seen

    for _ in range(3):
        make_customer(group=trade)
    owner_client.get("/admin/customers")  # first-use work out of the way
    few = listed()
    for n in range(22):
        fund(make_customer(group=group("VIP") if n % 2 else trade), 100 + n)
    many = listed()
    assert len(many) == len(few), "a statement per customer crept in"
    assert "€1.21" in owner_client.get("/admin/customers").get_data(as_text=True)


def test_a_confirmation_shown_against_an_old_group_is_refused_inside_the_write(app, customer, owner, trade):
    vip = group("VIP")
    basic = default_group()
    with app.test_request_context():
        put_in_group(customer, trade, owner, seen_from=basic)  # tab 1 confirms Basic → Trade
        with pytest.raises(GroupError, match="in the meantime"):
            put_in_group(customer, vip, owner, seen_from=basic)  # tab 2 showed Basic → VIP
        assert put_in_group(customer, trade, owner, seen_from=basic) is None  # tab 1's double click
    assert settings_for(customer).group_name == trade.name
    assert len(emails_to(customer.email)) == 1
