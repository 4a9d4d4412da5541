"""Customer groups, applications and approvals, staff roles, the audit list and referrals."""

import re

import pytest

from models.groups.applications import apply_for
from models.groups.applications import APPROVED
from models.groups.applications import decide
from models.groups.applications import GroupApplication
from models.groups.applications import PENDING
from models.groups.group import CustomerGroup
from models.groups.group import default_group
from models.groups.group import GroupError
from models.groups.group import settings_for
from models.shop.audit import AuditEntry
from models.shop.outbox import OutboxMessage
from models.users.user import STAFF
from models.users.user import User
from tests.accounts.test_register import register
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.shop.test_admin import VALID_SETTINGS


def group(name):
    return CustomerGroup.get(CustomerGroup.name == name)


def test_new_customers_join_the_default_group(customer):
    assert customer.group_id == default_group().id == group("Basic").id


def test_settings_helper_reads_the_current_group(customer):
    basic = settings_for(customer)
    assert basic.group_name == "Basic" and basic.funds_discount_bp == 0 and basic.may_transact
    User.update(group=group("VIP")).where(User.id == customer.id).execute()
    vip = settings_for(customer)
    assert vip.group_name == "VIP" and vip.funds_discount_bp == 200
    assert vip.bonus_for(10000) == 500 and vip.bonus_for(9999) == 0


def test_blocked_customer_may_not_transact_or_apply(customer):
    User.update(blocked_at=User.created_at).where(User.id == customer.id).execute()
    assert settings_for(customer).may_transact is False
    with pytest.raises(GroupError, match="paused"):
        apply_for(customer, group("VIP").id)


def test_application_lifecycle_applies_on_the_next_request(app, customer, owner):
    browser = app.test_client()
    sign_in(browser, customer)
    page = browser.get("/account/membership").get_data(as_text=True)
    assert "You are in Basic" in page and "Apply for VIP" in page
    vip = group("VIP")
    response = post_form(browser, "/account/membership/apply", {"group_id": vip.id, "note": "I buy a lot"})
    assert response.status_code == 303
    assert "waiting for the shop" in browser.get("/account/membership").get_data(as_text=True)

    owner_browser = app.test_client()
    sign_in(owner_browser, owner)
    queue = owner_browser.get("/admin/approvals").get_data(as_text=True)
    assert "I buy a lot" in queue and customer.email in queue
    application = GroupApplication.get()
    decision = post_form(
        owner_browser, f"/admin/approvals/applications/{application.id}/approve", page="/admin/approvals"
    )
    assert decision.status_code == 303

    page = browser.get("/account/membership").get_data(as_text=True)  # same session, no sign-out
    assert "You are in VIP" in page
    message = (
        OutboxMessage.select()
        .where(OutboxMessage.to_address == customer.email)
        .order_by(OutboxMessage.id.desc())
        .get()
    )
    assert "is approved" in message.subject
    for path in re.findall(r"http://shop\.test(/\S*)", message.text_body):
        assert browser.get(path).status_code == 200
    entry = AuditEntry.get(AuditEntry.action == "application_approved")
    assert (
        entry.actor_id == owner.id
        and entry.before_data["group"] == "Basic"
        and entry.after_data["group"] == "VIP"
    )


def test_rejected_applicant_keeps_their_group_and_is_told_why(app, customer, owner):
    application = apply_for(customer, group("VIP").id, "please")
    with app.app_context():
        with pytest.raises(GroupError, match="reason"):
            decide(application.id, False, owner, "")
        decide(application.id, False, owner, "We only invite customers with 5 orders.")
    assert settings_for(customer).group_name == "Basic"
    message = OutboxMessage.select().order_by(OutboxMessage.id.desc()).get()
    assert "5 orders" in message.text_body


def test_deciding_twice_changes_nothing(app, owner_client, customer, owner):
    application = apply_for(customer, group("VIP").id)
    with app.app_context():
        decide(application.id, True, owner)
    response = post_form(
        owner_client,
        f"/admin/approvals/applications/{application.id}/reject",
        {"reason": "no"},
        page="/admin/approvals",
    )
    assert response.status_code == 422
    assert "already decided" in response.get_data(as_text=True)
    assert GroupApplication.get_by_id(application.id).state == APPROVED
    assert settings_for(customer).group_name == "VIP"


def test_forged_application_id_is_404(owner_client):
    assert (
        post_form(
            owner_client, "/admin/approvals/applications/99999/approve", page="/admin/approvals"
        ).status_code
        == 404
    )


def test_applying_twice_or_to_a_closed_group_is_refused(customer_client, customer):
    vip = group("VIP")
    post_form(customer_client, "/account/membership/apply", {"group_id": vip.id})
    again = post_form(
        customer_client, "/account/membership/apply", {"group_id": vip.id}, page="/account/membership"
    )
    assert again.status_code == 422
    assert "already applied" in again.get_data(as_text=True)
    closed = post_form(
        customer_client,
        "/account/membership/apply",
        {"group_id": group("Basic").id},
        page="/account/membership",
    )
    assert closed.status_code == 422 and "by invitation only" in closed.get_data(as_text=True)
    nonsense = post_form(
        customer_client, "/account/membership/apply", {"group_id": "x' OR 1=1"}, page="/account/membership"
    )
    assert nonsense.status_code == 422
    assert GroupApplication.select().where(GroupApplication.state == PENDING).count() == 1


def test_withdraw_only_own_pending_application(app, customer_client, customer, make_customer):
    application = apply_for(customer, group("VIP").id)
    other = make_customer()
    other_browser = app.test_client()
    sign_in(other_browser, other)
    post_form(
        other_browser,
        f"/account/membership/applications/{application.id}/withdraw",
        page="/account/membership",
    )
    assert GroupApplication.get_by_id(application.id).state == PENDING
    post_form(
        customer_client,
        f"/account/membership/applications/{application.id}/withdraw",
        page="/account/membership",
    )
    assert GroupApplication.get_by_id(application.id).state == "withdrawn"


def test_staff_see_the_queue_but_only_the_owner_decides(app, staff, customer):
    application = apply_for(customer, group("VIP").id)
    browser = app.test_client()
    sign_in(browser, staff)
    assert "Only the owner decides" in browser.get("/admin/approvals").get_data(as_text=True)
    response = post_form(
        browser, f"/admin/approvals/applications/{application.id}/approve", page="/admin/approvals"
    )
    assert response.status_code == 403
    assert GroupApplication.get_by_id(application.id).state == PENDING


def test_admin_navigation_counts_waiting_approvals(owner_client, customer):
    apply_for(customer, group("VIP").id)
    html = owner_client.get("/admin/").get_data(as_text=True)
    assert re.search(r'Approvals <span class="count">1<', html)


# Group management -------------------------------------------------------------

GROUP_FORM = {
    "name": "Wholesale",
    "perks": "Bulk prices",
    "topup_min": "50",
    "topup_max": "5000.00",
    "funds_discount_bp": "2.5",
    "default_credit_limit": "250",
    "pay_on_account": "y",
    "bonus_threshold": "0",
    "bonus_amount": "0",
    "affiliate_reward": "0",
    "reminders_enabled": "y",
}


def test_owner_creates_a_group_with_money_settings(owner_client, owner):
    response = post_form(owner_client, "/admin/groups/new", GROUP_FORM)
    assert response.status_code == 303
    created = group("Wholesale")
    assert (created.topup_min, created.topup_max, created.funds_discount_bp) == (5000, 500000, 250)
    assert (
        created.default_credit_limit == 25000 and created.pay_on_account and not created.open_to_applications
    )
    assert AuditEntry.get(AuditEntry.action == "group_created").actor_id == owner.id


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("topup_min", "NaN", "digits"),
        ("topup_min", "1e5", "digits"),
        ("topup_min", "-5", "digits"),
        ("topup_min", "12.345", "at most 2 decimals"),
        ("topup_min", "\u0663", "digits"),
        ("topup_min", "0", "above zero"),
        ("topup_max", "99999999999", "digits"),
        ("topup_max", "10", "at least the smallest"),
        ("funds_discount_bp", "150", "at most 100"),
        ("funds_discount_bp", "60", "at most 50"),
        ("funds_discount_bp", "inf", "percentage like"),
        ("bonus_amount", "5", "leave both at 0"),
        ("name", "", "Give the group a name."),
        ("name", "Basic", "already has that name"),
    ],
)
def test_bad_group_settings_are_refused_and_kept(owner_client, field, value, message):
    response = post_form(owner_client, "/admin/groups/new", dict(GROUP_FORM, **{field: value}))
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 422
    assert message in html
    assert 'value="Wholesale"' in html or field == "name"
    assert not CustomerGroup.select().where(CustomerGroup.name == "Wholesale").exists()


def test_retiring_a_group_moves_its_members(owner_client, make_customer):
    vip = group("VIP")
    members = [make_customer(group=vip) for _ in range(2)]
    page = owner_client.get(f"/admin/groups/{vip.id}/retire")
    assert "2 customers are in VIP" in page.get_data(as_text=True)  # plural forms, not "(s)"
    response = post_form(owner_client, f"/admin/groups/{vip.id}/retire", {"move_to": group("Basic").id})
    assert response.status_code == 303
    assert all(User.get_by_id(m.id).group_id == group("Basic").id for m in members)
    assert CustomerGroup.get_by_id(vip.id).is_retired
    assert owner_client.get(f"/admin/groups/{vip.id}").status_code == 404


def test_the_default_group_cannot_be_retired_or_undefaulted(owner_client):
    basic = group("Basic")
    refused = post_form(owner_client, f"/admin/groups/{basic.id}/retire", {"move_to": group("VIP").id})
    assert refused.status_code == 422 and "default" in refused.get_data(as_text=True)
    form = dict(GROUP_FORM, name="Basic")
    response = post_form(owner_client, f"/admin/groups/{basic.id}", form)
    assert response.status_code == 422 and "there must always be one" in response.get_data(as_text=True)


def test_making_another_group_default_moves_the_flag(owner_client):
    vip = group("VIP")
    post_form(owner_client, f"/admin/groups/{vip.id}", dict(GROUP_FORM, name="VIP", is_default="y"))
    assert default_group().id == vip.id
    assert CustomerGroup.select().where(CustomerGroup.is_default == True).count() == 1  # noqa: E712


# Staff --------------------------------------------------------------------------


def test_owner_grants_and_revokes_staff_with_audit(owner_client, customer, owner):
    response = post_form(owner_client, "/admin/staff", {"email": customer.email})
    assert response.status_code == 303
    assert User.get_by_id(customer.id).role == STAFF
    post_form(owner_client, f"/admin/staff/{customer.id}/revoke", page="/admin/staff")
    assert User.get_by_id(customer.id).role == "customer"
    actions = [e.action for e in AuditEntry.select().order_by(AuditEntry.id)]
    assert actions == ["staff_granted", "staff_revoked"]
    audit_page = owner_client.get("/admin/audit").get_data(as_text=True)
    assert "Staff access given" in audit_page and customer.email in audit_page


def test_granting_staff_to_unknown_email_is_a_clear_error(owner_client):
    response = post_form(owner_client, "/admin/staff", {"email": "ghost@example.com"})
    assert response.status_code == 422 and "no account" in response.get_data(as_text=True)


def test_revoked_staff_lose_admin_on_their_next_request(app, owner_client, staff):
    browser = app.test_client()
    sign_in(browser, staff)
    assert browser.get("/admin/").status_code == 200
    post_form(owner_client, f"/admin/staff/{staff.id}/revoke", page="/admin/staff")
    assert browser.get("/admin/").status_code == 403


# Referrals ----------------------------------------------------------------------


def test_referral_link_attributes_registrations(app, make_customer):
    affiliate = make_customer(group=group("Affiliate"))
    browser = app.test_client()
    sign_in(browser, affiliate)
    page = browser.get("/account/membership").get_data(as_text=True)
    link = re.search(r'value="http://localhost(/r/[^"]+)"', page).group(1)

    visitor = app.test_client()
    assert visitor.get(link).status_code == 200

    register(visitor, email="friend@example.com")
    friend = User.by_email("friend@example.com")
    assert friend.referred_by_id == affiliate.id
    assert "Ana L." in browser.get("/account/membership").get_data(as_text=True)


def test_unknown_referral_code_is_a_friendly_404(client):
    response = client.get("/r/nonsense")
    assert response.status_code == 404 and "doesn" in response.get_data(as_text=True)


def test_dashboard_shows_the_group_and_links_to_membership(customer_client):
    html = customer_client.get("/account/").get_data(as_text=True)
    assert "You are in <strong>Basic</strong>" in html
    assert 'href="/account/membership"' in html


def test_every_admin_change_lands_in_the_audit_list(app, owner_client, owner, customer):

    post_form(owner_client, "/admin/settings", VALID_SETTINGS)
    post_form(owner_client, f"/admin/customers/{customer.id}/block", page=f"/admin/customers/{customer.id}")
    post_form(
        owner_client,
        "/admin/customers/new",
        {"email": "phoned-in@example.com", "first_name": "Pat", "last_name": "Phone", "phone": ""},
    )
    entries = {entry.action: entry for entry in AuditEntry.select()}
    assert {"settings_changed", "customer_paused", "customer_created"} <= set(entries)
    settings_entry = entries["settings_changed"]
    assert settings_entry.actor_id == owner.id
    assert settings_entry.before_data["shop_name"] == "Test Shop"
    assert settings_entry.after_data["shop_name"] == "Corner Shop"
    assert "timezone" not in settings_entry.after_data  # unchanged fields are not listed
