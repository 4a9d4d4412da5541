"""One secret key for every host, and its rotation: SECRET_KEY signs, SECRET_KEY_FALLBACKS still
verify, for every signer the shop has (README, Secret keys and rotation; models/signing.py)."""

import pytest
from itsdangerous import BadData
from werkzeug.test import EnvironBuilder

from models.accounts.administration import create_user
from models.base import connection
from models.orders.pay_link import order_for_pay_link
from models.orders.pay_link import pay_link_token
from models.reminders.messages import opt_out_token
from models.signing import key_list
from payments import stripe as stripe_provider
from shop import create_app
from shop import default_config
from tests.conftest import app_config
from tests.conftest import csrf_token
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.conftest import TEST_ENVIRONMENT
from tests.conftest import TEST_PASSWORD
from tests.factories import new_customer
from tests.factories import new_order

OLD, NEW = "the-old-secret-key", "the-new-secret-key"


@pytest.fixture
def restarted(database_url, tmp_path):
    """restarted(key, fallbacks=()): the shop started with these keys, on the test's database."""

    def start(key, fallbacks=()):
        return create_app(
            app_config(database_url, tmp_path, SECRET_KEY=key, SECRET_KEY_FALLBACKS=list(fallbacks))
        )

    return start


@pytest.fixture
def shops(restarted):
    """The shop before the rotation, during it (the old key a fallback), and after it (dropped)."""
    return restarted(OLD), restarted(NEW, [OLD]), restarted(NEW)


def move_cookies(source, target, names=("session", "known_device")):
    """The browser's cookies from one host's client to another's (same domain, as behind one address)."""
    for name in names:
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


# Starting ------------------------------------------------------------------------------------


@pytest.mark.parametrize("environment_key", [None, ""])
def test_on_postgresql_the_shop_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch, environment_key):
    if environment_key is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", environment_key)
    instance = tmp_path / "instance"
    config = {
        "INSTANCE_PATH": str(instance),
        "SHOP_BASE_URL": TEST_ENVIRONMENT["SHOP_BASE_URL"],
        # Nothing listens there: the refusal comes before any connection is thought of.
        "DATABASE_URL": "postgresql://shop@/shop?host=/nonexistent",
    }
    with pytest.raises(RuntimeError, match=r"SECRET_KEY is not set\. On PostgreSQL .* several hosts"):
        create_app(config)
    assert not (instance / "secret_key").exists()  # no host-local key was made instead


def test_fallback_keys_come_from_the_environment_as_a_list(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", " old1, old2\nold3  ")
    assert default_config(str(tmp_path))["SECRET_KEY_FALLBACKS"] == ["old1", "old2", "old3"]
    monkeypatch.delenv("SECRET_KEY_FALLBACKS")
    assert default_config(str(tmp_path))["SECRET_KEY_FALLBACKS"] == []
    assert key_list(["a", "", "b"]) == ["a", "b"] and key_list(None) == []


def test_the_rotated_shop_signs_with_the_new_key_and_csrf_verifies_with_all(shops):
    _, rotated, _ = shops
    assert rotated.config["SECRET_KEY"] == NEW and rotated.config["SECRET_KEY_FALLBACKS"] == [OLD]
    assert rotated.config["WTF_CSRF_SECRET_KEY"] == [OLD, NEW]  # itsdangerous: the last one signs


# Every signer honours the fallbacks ----------------------------------------------------------


def test_an_old_pay_link_opens_after_the_rotation_until_its_key_is_dropped(shops):
    old, rotated, dropped = shops
    with connection(), old.test_request_context():
        order = new_order(new_customer())
        token = pay_link_token(order)

    opened = rotated.test_client().get(f"/account/orders/link/{token}")
    assert opened.status_code == 302 and opened.location.endswith(f"/account/orders/{order.id}/pay")
    assert dropped.test_client().get(f"/account/orders/link/{token}").status_code == 404

    with connection(), rotated.app_context():
        new_token = pay_link_token(order)
        assert new_token != token and order_for_pay_link(token).id == order.id
    with connection(), dropped.app_context():
        assert order_for_pay_link(new_token).id == order.id  # new links are signed with the new key


def test_an_old_reminder_opt_out_link_opens_after_the_rotation_until_its_key_is_dropped(shops):
    old, rotated, dropped = shops
    with connection(), old.app_context():
        customer = new_customer()
        token = opt_out_token(customer.id)

    page = rotated.test_client().get(f"/reminders/unsubscribe/{token}")
    assert page.status_code == 200
    one_click = rotated.test_client().post(
        f"/reminders/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}
    )
    assert one_click.status_code == 200
    assert dropped.test_client().get(f"/reminders/unsubscribe/{token}").status_code == 404


def test_an_old_card_payment_page_token_loads_after_the_rotation_until_its_key_is_dropped(shops):
    old, rotated, dropped = shops
    with old.app_context():
        token = stripe_provider._pay_token_signer().dumps(["pi_123", "/account/orders/1"])
    with rotated.app_context():
        assert stripe_provider._pay_token_signer().loads(token) == ["pi_123", "/account/orders/1"]
    with dropped.app_context(), pytest.raises(BadData):
        stripe_provider._pay_token_signer().loads(token)


def test_a_session_and_an_open_form_survive_the_rotation_until_the_old_key_is_dropped(shops):
    old, rotated, dropped = shops
    with connection(), old.app_context():
        customer = create_user("rotated@example.com", TEST_PASSWORD, first_name="Rota", last_name="Ted")
    before = old.test_client()
    sign_in(before, customer)
    token = csrf_token(before, "/account/")  # a page left open in a tab over the rotation

    during = rotated.test_client()
    move_cookies(before, during)
    assert during.get("/account/profile").status_code == 200
    signed_out = during.post("/sign-out", data={"csrf_token": token})
    assert signed_out.status_code == 303, signed_out.get_data(as_text=True)  # not "form expired"

    after = dropped.test_client()
    again = old.test_client()
    sign_in(again, customer)
    move_cookies(again, after)
    assert after.get("/account/profile").status_code == 302  # the old cookie is no session any more


def test_a_known_device_stays_known_over_the_rotation(shops):
    old, rotated, _ = shops
    with connection(), old.app_context():
        customer = create_user("device@example.com", TEST_PASSWORD, first_name="Dee", last_name="Vice")
    laptop = old.test_client()
    sign_in(laptop, customer)
    old_tag = laptop.get_cookie("known_device").value

    # Guesses at the account from many addresses, on the rotated shop.
    for number in range(5):
        attacker = rotated.test_client()
        attacker.environ_base["REMOTE_ADDR"] = f"203.0.113.{number + 1}"
        for _ in range(2):
            wrong = {"email": customer.email, "password": "not the password"}
            assert post_form(attacker, "/sign-in", wrong, page="/sign-in").status_code == 422

    same_laptop = rotated.test_client()
    move_cookies(laptop, same_laptop, names=("known_device",))
    right = {"email": customer.email, "password": TEST_PASSWORD}
    assert post_form(same_laptop, "/sign-in", right, page="/sign-in").status_code == 303
    new_tags = same_laptop.get_cookie("known_device").value.split(".")
    assert old_tag not in new_tags and len(new_tags) == 1  # re-tagged with the new key


# A load balancer in front of nginx (README, Secret keys and rotation) -------------------------


def client_seen(app, forwarded_for, proto="https, http"):
    """The client's address and scheme as the app sees them behind its ProxyFix."""
    seen = {}

    def inner(environ, start_response):
        seen.update(address=environ["REMOTE_ADDR"], scheme=environ["wsgi.url_scheme"])
        start_response("204 No Content", [])
        return []

    app.wsgi_app.app = inner
    headers = {"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": proto}
    environ = EnvironBuilder(path="/", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    list(app.wsgi_app(environ.get_environ(), lambda *args: None))
    return seen


def test_trusted_proxies_behind_a_load_balancer_and_nginx(database_url, tmp_path):
    def shop(hops):
        return create_app(app_config(database_url, tmp_path, TRUSTED_PROXIES=hops))

    # The balancer wrote the client's address, nginx appended the balancer's; nginx appends its
    # scheme to the balancer's X-Forwarded-Proto (README).
    assert client_seen(shop(2), "198.51.100.7, 10.0.0.2") == {"address": "198.51.100.7", "scheme": "https"}
    # One hop too many: the first value, which the client itself may write, is taken as the client.
    forged = "6.6.6.6, 198.51.100.7, 10.0.0.2"
    assert client_seen(shop(3), forged, "http, https, http")["address"] == "6.6.6.6"
    # One too few: every customer is the load balancer (one throttle counter for everyone).
    assert client_seen(shop(1), "198.51.100.7, 10.0.0.2")["address"] == "10.0.0.2"
