"""Every /admin route, by role: a table built from the app's URL map, so a new route that
forgets its guard fails here without anyone remembering to add it."""

import re

import pytest

from shop import create_app
from tests.conftest import csrf_token
from tests.conftest import sign_in


def admin_routes():
    """(endpoint, method, path) for every admin route, with 1 for any id."""
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite:///unused"})
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        path = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", rule.rule)
        path = re.sub(r"<[^>]+>", "1", path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, path))
    return routes


ROUTES = admin_routes()


def test_the_table_covers_the_admin_area():
    endpoints = {endpoint for endpoint, _, _ in ROUTES}
    assert {
        "admin.dashboard",
        "admin.settings",
        "admin.approvals.index",
        "admin.customers.index",
        "admin.catalog.products",
        "admin.catalog.categories",
    } <= endpoints
    assert len(ROUTES) >= 15


def call(client, method, path):
    if method == "GET":
        return client.get(path)
    return client.open(path, method=method, data={"csrf_token": csrf_token(client, "/")})


@pytest.mark.parametrize("endpoint, method, path", ROUTES)
def test_visitors_are_sent_to_sign_in(client, endpoint, method, path):
    response = call(client, method, path)
    assert response.status_code == 302, endpoint
    assert response.headers["Location"].startswith("/sign-in")


@pytest.mark.parametrize("endpoint, method, path", ROUTES)
def test_customers_are_refused(customer_client, endpoint, method, path):
    assert call(customer_client, method, path).status_code == 403, endpoint


@pytest.mark.parametrize("endpoint, method, path", ROUTES)
def test_staff_are_refused_exactly_the_owner_only_routes(app, staff, endpoint, method, path):
    client = app.test_client()
    sign_in(client, staff)
    owner_only = getattr(app.view_functions[endpoint], "owner_only", False)
    status = call(client, method, path).status_code
    if owner_only:
        assert status == 403, f"{endpoint} is owner-only but staff got {status}"
    else:
        assert status != 403, f"{endpoint} is for staff but refused them"
        assert status < 500, endpoint


@pytest.mark.parametrize("endpoint, method, path", ROUTES)
def test_the_owner_is_never_refused(owner_client, endpoint, method, path):
    status = call(owner_client, method, path).status_code
    assert status not in (401, 403) and status < 500, f"{endpoint}: {status}"


OWNER_ONLY = {
    "admin.settings",
    "admin.outbox",
    "admin.outbox_message",
    "admin.outbox_send_again",
    "admin.groups.new",
    "admin.groups.edit",
    "admin.groups.retire",
    "admin.customers.change_group",
    "admin.approvals.decide_application",
    "admin.staff.index",
    "admin.staff.revoke",
    "admin.audit.index",
    "admin.funds.refund",
    "admin.credit.bank_payment",
    "admin.credit.record_payment",
    "admin.reminders.settings",
    "admin.reminders.templates",
    "admin.reminders.edit_template",
    "admin.reminders.preview_template",
    "admin.reminders.restore_template",
    "admin.reminders.categories",
    "admin.delivery.new",
    "admin.delivery.edit",
    "admin.delivery.set_active",
    "admin.delivery.move",
}


def test_the_listed_owner_only_actions_are_guarded(app):
    guarded = {
        endpoint for endpoint, view in app.view_functions.items() if getattr(view, "owner_only", False)
    }
    assert OWNER_ONLY <= guarded


# Staff help run the shop: every catalogue route is theirs too. The one narrower rule (only the
# owner changes an existing product's price) is a field rule, tested in tests/storefront/test_catalog.py.
STAFF_AND_OWNER = {
    "admin.catalog.products",
    "admin.catalog.new_product",
    "admin.catalog.edit_product",
    "admin.catalog.set_active",
    "admin.catalog.categories",
    "admin.catalog.new_category",
    "admin.catalog.edit_category",
}


def test_the_catalogue_is_for_staff_and_owner(app):
    catalogue = {endpoint for endpoint in app.view_functions if endpoint.startswith("admin.catalog.")}
    assert catalogue == STAFF_AND_OWNER
    assert not any(getattr(app.view_functions[endpoint], "owner_only", False) for endpoint in catalogue)
