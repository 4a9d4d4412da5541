"""Every route of the URL map, walked by each role with ids and texts no row can have.

Built from `app.url_map` at run time, so a new route, and a new field a view reads, is walked
without anyone adding it here. For each role (visitor, customer, staff, owner):

- every variable of every rule takes each bad value in turn (the other variables hold real ids of
  rows that role may see), by every method the rule answers; an `<id:…>` variable answers 404
  (views/lookups.py), whatever the method and whoever asks;
- every route is asked again at its real URL, and every query string or form field the view read
  (noted as it reads them, see `NotedFields`) takes each bad value in turn, with a valid CSRF token.

Nothing may answer 5xx or raise. One test per role with the loops inside: thousands of
parametrised cases would cost more than the walk itself.
"""

import re
from urllib.parse import quote

import pytest
from werkzeug.datastructures import ImmutableMultiDict

from models.groups.group import CustomerGroup
from models.orders.pay_link import pay_link_token
from models.users.user import CUSTOMER
from models.users.user import OWNER
from models.users.user import STAFF
from tests import factories
from tests.conftest import csrf_token
from tests.conftest import sign_in

# Ids no row can have: past SQLite's INTEGER (2**63 - 1), far past it, signed, zero, digits that
# str.isdigit() accepts but int() refuses ("²") or reads (Arabic-Indic "١٢"), and no number at all.
BAD_IDS = ("9223372036854775808", "99999999999999999999", "-1", "0", "²", "١٢", "abc", "1e3")
# Text variables (tokens, slugs, secrets, names, keys) get these too: overlong, NUL, non-ASCII, dots.
BAD_TEXTS = ("x" * 4000, "a\x00b", "ünïcødé-✓-日本", "..")

# POSTed to, this would end the walking session itself.
ENDS_SESSION = {"auth.sign_out"}
# A field the walk sends only to be sure the view sees a submitted form (and reads its fields).
PROBE = "route-walk"

VARIABLE = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


class NotedFields(ImmutableMultiDict):
    """request.args and request.form that note every name a view asks them for."""

    names = set()

    def __contains__(self, key):
        NotedFields.names.add(key)
        return super().__contains__(key)

    def __getitem__(self, key):
        NotedFields.names.add(key)
        return super().__getitem__(key)

    def get(self, key, *args, **kwargs):
        NotedFields.names.add(key)
        return super().get(key, *args, **kwargs)

    def getlist(self, key, *args, **kwargs):
        NotedFields.names.add(key)
        return super().getlist(key, *args, **kwargs)


def is_text(converter):
    return converter in (None, "string", "default", "path")


def build(rule, real, override=None):
    """The rule's path: each variable its real value (an `any` its first choice), or the override."""

    def value(match):
        converter, arguments, name = match.groups()
        if override and name == override[0]:
            return quote(override[1], safe="")
        if converter == "any":
            return arguments.split(",")[0].strip().strip("'\"")
        return quote(str(real.get(f"{rule.endpoint}:{name}", real.get(name, "1"))), safe="")

    return VARIABLE.sub(value, rule.rule)


class Walker:
    def __init__(self, client):
        self.client = client
        self.token = csrf_token(client, "/")
        self.problems = []
        self.requests = 0

    def ask(self, method, path, fields=None, expect=None):
        """Send one request; the field names the view read (a 5xx, an exception, or another status
        than `expect` is noted)."""
        self.requests += 1
        NotedFields.names = set()
        try:
            response = self._send(method, path, fields)
            if response.status_code == 400 and b"This form has expired" in response.data:
                self.token = csrf_token(self.client, "/")  # the session changed (signed out others…)
                response = self._send(method, path, fields)
                if response.status_code == 400 and b"This form has expired" in response.data:
                    self.problems.append(f"{method} {path[:100]}: the CSRF token is refused")
        except Exception as error:  # noqa: BLE001 - every escape is a finding
            self.problems.append(
                f"{method} {path[:100]} {fields or ''}: {type(error).__name__}: {error}"[:300]
            )
        else:
            if response.status_code >= 500 or expect not in (None, response.status_code):
                self.problems.append(f"{method} {path[:100]} {fields or ''}: {response.status_code}"[:300])
        return NotedFields.names - {"csrf_token", PROBE}

    def _send(self, method, path, fields):
        if method == "GET":
            return self.client.get(path, query_string=fields)
        return self.client.open(path, method=method, data={**(fields or {}), "csrf_token": self.token})

    def walk(self, app, real):
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
            for match in VARIABLE.finditer(rule.rule):
                converter, _, name = match.groups()
                if converter == "any":
                    continue
                for bad in BAD_IDS + (BAD_TEXTS if is_text(converter) else ()):
                    path = build(rule, real, (name, bad))
                    for method in methods:
                        self.ask(method, path, expect=404 if converter == "id" else None)
            path = build(rule, real)
            for method in methods:
                if method != "GET" and rule.endpoint in ENDS_SESSION:
                    continue
                names = self.ask(method, path, {PROBE: "1"})
                for bad in BAD_IDS + BAD_TEXTS if names else ():
                    names |= self.ask(method, path, {PROBE: "1", **dict.fromkeys(names, bad)})


def the_world(app, customer):
    """Rows for the walk to find: {variable name (or "endpoint:name"): a real value} on `customer`'s side."""
    with app.test_request_context():
        product = factories.make_product()
        order = factories.placed_order(customer, (product, 1))
        address = factories.address(customer)
        factories.shop(customer, (product, 1))  # a cart for checkout
        group = factories.new_group()
        CustomerGroup.update(open_to_applications=True).where(CustomerGroup.id == group.id).execute()
        token = pay_link_token(order)
    return {
        "order_id": order.id,
        "address_id": address.id,
        "customer_id": customer.id,
        "user_id": customer.id,
        "product_id": product.id,
        "category_id": product.category_id,
        "group_id": group.id,
        "slug": product.slug,
        "key": "order-value",
        "provider_name": "sandbox",
        "orders.link:token": token,
    }


def walk_as(app, make_user, role=None):
    app.request_class = type("NotingRequest", (app.request_class,), {"parameter_storage_class": NotedFields})
    client = app.test_client()
    if role is None:
        customer = make_user(CUSTOMER)
    else:
        user = make_user(role)
        customer = user if role == CUSTOMER else make_user(CUSTOMER)
        sign_in(client, user)
    walker = Walker(client)
    walker.walk(app, the_world(app, customer))
    assert walker.requests > 500, walker.requests  # it really walked
    problems = walker.problems
    assert not problems, f"{len(problems)} of {walker.requests} requests failed:\n" + "\n".join(problems[:80])
    if role is not None:  # …as the role all the way
        assert client.get("/account/").status_code == 200


def test_visitors_meet_no_server_error(app, make_user):
    walk_as(app, make_user)


def test_customers_meet_no_server_error(app, make_user):
    walk_as(app, make_user, CUSTOMER)


def test_staff_meet_no_server_error(app, make_user):
    walk_as(app, make_user, STAFF)


def test_the_owner_meets_no_server_error(app, make_user):
    walk_as(app, make_user, OWNER)


@pytest.fixture(autouse=True)
def _quiet_error_log(caplog):
    """The walk provokes errors on purpose; their tracebacks would flood a failure's report."""
    caplog.set_level("CRITICAL", logger="shop")
