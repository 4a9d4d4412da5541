"""A shop that reads like one (issue 22): the home page (name, tagline, New in with full rows, the
categories), in stock before sold out wherever products are listed, one style for dates, countries
by name in every address, and amounts always with their currency."""

import datetime
import re
from html import unescape

import pytest
import time_machine

from models.groups.group import CustomerGroup
from models.operations.demo import load_demo_catalogue
from models.orders.fulfilment import dispatch
from models.orders.fulfilment import receive_bank_transfer
from models.orders.order import BANK
from models.shop.outbox import OutboxMessage
from models.shop.settings import load_settings
from models.shop.settings import update_settings
from models.storefront.catalog import Product
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.factories import make_category
from tests.factories import make_product
from tests.factories import placed_order
from tests.shop.test_admin import VALID_SETTINGS
from views.storefront.storefront import hidden_for_full_rows
from views.storefront.storefront import NEW_IN
from views.storefront.storefront import PER_PAGE

TIME = re.compile(r"\b\d{1,2}:\d{2}:\d{2}\b")  # 03:34:05
NUMERIC_DATE = re.compile(r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}\b")  # 07/12/2026, 2026-12-07, 7.12.26


def text_of(response):
    return unescape(response.get_data(as_text=True))


def card_names(html):
    return re.findall(r'class="product-card__name">([^<]+)<', html)


# The home page --------------------------------------------------------------------------------


def test_home_has_the_shops_name_as_heading_and_its_tagline(client, app):
    load_demo_catalogue()
    update_settings({"tagline": "Coffee roasted every Monday in Leeds."})
    html = text_of(client.get("/"))
    assert re.search(r"<h1[^>]*>Test Shop</h1>", html)
    assert "Coffee roasted every Monday in Leeds." in html
    assert "<title>Coffee roasted every Monday in Leeds. · Test Shop</title>" in html
    assert "Welcome to" not in html


def test_home_without_a_tagline_shows_none(client, app):
    load_demo_catalogue()
    html = text_of(client.get("/"))
    assert 'class="shop-hero__tagline"' not in html
    assert "<title>Home · Test Shop</title>" in html


def test_new_in_is_newest_first_with_sold_out_ones_last_and_marked(client, app):
    tea = make_category("Tea")
    with time_machine.travel(datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC), tick=False):
        make_product(tea, name="Old but in stock", stock=4)
    with time_machine.travel(datetime.datetime(2026, 3, 2, 12, tzinfo=datetime.UTC), tick=False):
        make_product(tea, name="Newest but sold out", stock=0)
    with time_machine.travel(datetime.datetime(2026, 3, 3, 12, tzinfo=datetime.UTC), tick=False):
        make_product(tea, name="Newest in stock", stock=9)
    html = text_of(client.get("/"))
    new_in = html.split('id="new-in"')[1].split("</section>")[0]
    assert card_names(new_in) == ["Newest in stock", "Old but in stock", "Newest but sold out"]
    sold_out_card = new_in.split("Old but in stock")[1]
    assert "Sold out" in sold_out_card and "product-card--out" in sold_out_card
    assert new_in.count("Sold out") == 2  # on the picture (hidden from screen readers) and in words


def test_new_in_shows_at_most_a_few_and_the_categories_as_tiles(client, app):
    tea = make_category("Tea")
    for n in range(NEW_IN + 3):
        make_product(tea, name=f"Tea number {n:02d}", stock=5)
    html = text_of(client.get("/"))
    new_in = html.split('id="new-in"')[1].split("</section>")[0]
    assert len(card_names(new_in)) == NEW_IN
    assert 'class="category-tile" href="/c/tea"' in html
    assert f"See all {NEW_IN + 3} products" in html


def test_category_pages_list_in_stock_products_first(client, app):
    load_demo_catalogue()
    names = card_names(text_of(client.get("/c/coffee")))
    assert names == ["Ethiopia Guji, 250 g", "House blend, 250 g", "Decaf Colombia, 250 g"]
    assert Product.get(Product.name == names[-1]).stock == 0


# Full rows ------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", range(0, 30))
def test_every_row_of_new_in_is_full_at_2_3_and_4_across(count):
    hidden = hidden_for_full_rows(count)
    assert len(hidden) == count
    for columns in (2, 3, 4):
        shown = [index for index, at in enumerate(hidden) if columns not in at]
        if count >= columns:
            assert len(shown) % columns == 0, (count, columns)
            assert len(shown) > count - columns  # as many as fill rows, no fewer
            assert shown == list(range(len(shown)))  # the first ones, in order
        else:
            assert len(shown) == count  # fewer than one row: all of them


def test_the_demo_new_in_fills_two_rows_of_four_and_hides_two_at_three_across():
    hidden = hidden_for_full_rows(8)
    assert [at for at in hidden if at] == [[3], [3]]
    assert PER_PAGE % 2 == PER_PAGE % 3 == PER_PAGE % 4 == 0  # category pages: full rows but the last page


def test_the_card_carries_the_classes_the_css_hides(client, app):
    tea = make_category("Tea")
    for n in range(8):
        make_product(tea, name=f"Tea {n}", stock=5)
    html = text_of(client.get("/"))
    assert html.count("product-grid__item--not-at-3") == 2
    assert "product-grid__item--not-at-4" not in html and "product-grid__item--not-at-2" not in html


# The tagline setting --------------------------------------------------------------------------


def test_the_owner_saves_a_tagline(owner_client):
    response = post_form(owner_client, "/admin/settings", dict(VALID_SETTINGS, tagline="  Tea, slowly.  "))
    assert response.status_code == 303
    assert load_settings().tagline == "Tea, slowly."
    html = text_of(owner_client.get("/admin/settings"))
    assert '<label for="tagline">Tagline <span class="optional">(optional)</span></label>' in html
    assert 'value="Tea, slowly."' in html
    assert "Tea, slowly." in text_of(owner_client.get("/"))


def test_a_tagline_too_long_is_refused_and_kept_as_typed(owner_client):
    typed = "Small-batch coffee " * 7  # 133 characters
    response = post_form(owner_client, "/admin/settings", dict(VALID_SETTINGS, tagline=typed))
    html = text_of(response)
    assert response.status_code == 422
    assert "Keep the tagline to 120 characters or fewer." in html
    assert '<a href="#tagline">' in html
    assert f'value="{typed.strip()}"' in html
    assert load_settings().tagline == ""
    assert load_settings().shop_name == "Test Shop"  # nothing else was saved either


def test_a_tagline_on_several_lines_is_refused(owner_client):
    response = post_form(owner_client, "/admin/settings", dict(VALID_SETTINGS, tagline="One\u0007two"))
    assert response.status_code == 422
    assert "Tagline contains characters we can't store." in text_of(response)


# Dates and countries --------------------------------------------------------------------------


@pytest.fixture
def dispatched(app, customer, owner):
    """A bank-transfer order to Town, GB, paid and dispatched (its emails in the outbox)."""
    update_settings({"bank_account_name": "Test Shop Ltd", "bank_iban": "GB33BUKB20201555555555"})
    product = make_product(make_category("Tea"), price=1200, stock=5, name="Oolong")
    with app.test_request_context():
        order = placed_order(customer, (product, 1), key="home-order-key-000001", method=BANK)
        receive_bank_transfer(order, owner)
        dispatch([order], owner, "Royal Mail JD000")
    return order


def assert_house_style(text, where):
    assert not TIME.search(text), f"{where} shows seconds: {TIME.search(text).group()}"
    assert not NUMERIC_DATE.search(text), f"{where} shows a numeric date: {NUMERIC_DATE.search(text).group()}"


def without_tags(html):
    return re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S))


def test_order_pages_invoice_and_emails_say_dates_one_way_and_countries_by_name(
    app, customer_client, customer, owner, dispatched
):
    order = dispatched
    day = order.created_at.replace(tzinfo=datetime.UTC).astimezone(load_settings().tz)
    written = f"{day.day} {day:%b} {day.year}"  # "7 Dec 2026"
    customer_pages = [f"/account/orders/{order.id}", f"/account/orders/{order.id}/invoice", "/account/orders"]
    for path in customer_pages:
        response = customer_client.get(path)
        assert response.status_code == 200, path
        text = without_tags(text_of(response))
        assert_house_style(text, path)
        assert written in text, path
    for path in customer_pages[:2]:
        text = without_tags(text_of(customer_client.get(path)))
        assert "United Kingdom" in text, path
        assert not re.search(r"\bGB\b", text.replace("GB33BUKB20201555555555", "")), path

    owner_client = app.test_client()
    sign_in(owner_client, owner)
    for path in (f"/admin/orders/{order.id}", "/admin/orders", f"/admin/customers/{customer.id}"):
        response = owner_client.get(path)
        assert response.status_code == 200, path
        text = without_tags(text_of(response))
        assert_house_style(text, path)
    assert "United Kingdom" in text_of(owner_client.get(f"/admin/orders/{order.id}"))

    dispatch_mail = OutboxMessage.get(OutboxMessage.kind == "order_dispatched")
    assert "United Kingdom" in dispatch_mail.text_body and "\nGB" not in dispatch_mail.text_body
    for message in OutboxMessage.select():
        assert_house_style(message.text_body, message.kind)


def test_the_date_filters_write_one_style(app):
    from views.formatting import local_date
    from views.formatting import local_day
    from views.formatting import local_month
    from views.formatting import local_time

    moment = datetime.datetime(2026, 12, 7, 15, 4, 5)  # naive UTC, as stored; London is UTC in winter
    with app.test_request_context():
        assert local_time(moment) == local_time(moment, "short") == "7 Dec 2026, 15:04"
        assert local_date(moment) == local_date(moment, "short") == "7 Dec 2026"
        assert local_day(moment.date()) == "7 Dec 2026"
        assert local_month(moment.date()) == "December 2026"
        assert local_day(moment.date(), "EEEE") == "Monday"  # an explicit pattern still passes through
        update_settings({"locale": "en_US"})
    with app.test_request_context():
        assert local_time(moment) == "Dec 7, 2026, 3:04\u202fPM"


# Amounts with their currency ------------------------------------------------------------------


def test_the_seeded_vip_perks_carry_no_bare_amounts_and_its_facts_have_the_currency(app):
    vip = CustomerGroup.get(CustomerGroup.name == "VIP")
    assert "a 5 bonus" not in vip.perks
    assert not re.search(r"(?<![€$£\d.,])\b\d+\b(?!\s*%)", vip.perks)  # no number that isn't a percentage
    with app.test_request_context():
        assert vip.perk_facts() == [
            "2% off when you pay with account funds",
            "A €5.00 bonus on every top-up of €100.00 or more",
        ]
        affiliate = CustomerGroup.get(CustomerGroup.name == "Affiliate")
        assert affiliate.perk_facts() == [
            "€5.00 in your account funds when someone you refer pays their first order"
        ]


def test_the_membership_page_lists_the_groups_amounts_with_the_currency(customer_client):
    html = text_of(customer_client.get("/account/membership"))
    assert "A €5.00 bonus on every top-up of €100.00 or more" in html
    assert "a 5 bonus" not in html
