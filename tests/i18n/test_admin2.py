"""French on the owner's pages of part admin2 (reports, reminders, the marketplace import) and in
the payment reminders, with this part's catalogue compiled into a translations folder of its own."""

import datetime
import re
from html import escape
from html import unescape
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from models.base import to_naive_utc
from models.marketplace.csv_upload import import_csv
from models.operations.demo import demo_words
from models.operations.demo import load_demo_catalogue
from models.operations.demo import load_demo_delivery
from models.orders.order import BANK
from models.orders.order import Order
from models.orders.order import OrderLine
from models.reminders.batches import plan_batch
from models.reminders.batches import send_planned
from models.reminders.messages import DEFAULT_TEMPLATES
from models.reminders.messages import save_template
from models.reminders.records import Reminder
from models.reminders.windows import open_window
from models.shop.outbox import OutboxMessage
from models.storefront.catalog import Category
from models.storefront.catalog import Product
from models.storefront.delivery import DeliveryMethod
from tests.conftest import post_form
from tests.conftest import sign_in
from tests.factories import placed_order

PART = Path(__file__).parents[2] / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
# Monday 23 November 2026, 10:30 in the test shop (Europe/London): inside the 10:00–11:00 window
# before the 11:00 dispatch.
AT = datetime.datetime(2026, 11, 23, 10, 30, tzinfo=datetime.UTC)
FRENCH = {"Accept-Language": "fr"}


@pytest.fixture(scope="module")
def translations(tmp_path_factory):
    folder = tmp_path_factory.mktemp("translations")
    (folder / "fr" / "LC_MESSAGES").mkdir(parents=True)
    with PART.open("rb") as po, (folder / "fr" / "LC_MESSAGES" / "messages.mo").open("wb") as mo:
        write_mo(mo, read_po(po))
    return folder


@pytest.fixture
def app_overrides(translations):
    return {"BABEL_TRANSLATION_DIRECTORIES": str(translations)}


def text_of(response):
    return unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def test_a_report_and_its_csv_are_in_the_owners_language(owner_client):
    page = owner_client.get("/admin/reports/deposits?period=this_month", headers=FRENCH)
    assert page.status_code == 200
    text = text_of(page)
    assert '<html lang="fr"' in page.get_data(as_text=True)
    assert "Recharges" in text and "Recharge moyenne" in text and "Afficher les chiffres" in text
    assert "Average top-up" not in text
    csv = owner_client.get("/admin/reports/deposits.csv?period=this_month", headers=FRENCH)
    assert (
        csv.get_data(as_text=True).splitlines()[0]
        == "Période,Recharges,Rechargé,Recharge moyenne,Bonus offert"
    )
    # The same report in English for an English page.
    english = owner_client.get(
        "/admin/reports/deposits.csv?period=this_month", headers={"Accept-Language": "en"}
    )
    assert english.get_data(as_text=True).startswith("Period,Top-ups,Deposited,Average top-up,Bonus given")


def test_a_kept_import_report_is_read_in_the_readers_language(app, client, owner):
    rows = (
        "channel,order_ref,email,shipping_name,shipping_line1,shipping_city,shipping_country,quantity,unit_price,item_name\n"
        "amazon,A-1,ann@example.com,Ann Lee,1 Road,Bristol,Narnia,1,5.00,Tea\n"
        "ebay,E-1,bob@example.com,Bob Lee,2 Road,Bristol,GB,1,5.00,Tea\n"
    )
    with app.test_request_context(headers={"Accept-Language": "en"}):
        report = import_csv(rows.encode(), "orders.csv", owner)
    sign_in(client, owner)
    english = text_of(
        client.get(f"/admin/orders/import/{report.batch_id}", headers={"Accept-Language": "en"})
    )
    assert "shipping_country: “Narnia” isn't a country." in english
    french = text_of(client.get(f"/admin/orders/import/{report.batch_id}", headers=FRENCH))
    assert "shipping_country : « Narnia » n’est pas un pays." in french  # (text_of makes every space plain)
    assert "Ligne 2" in french  # where the rejected order is, in words


def unpaid_order(app, make_customer, make_product, first_name, language):
    with app.test_request_context():
        buyer = make_customer(first_name=first_name, language=language)
        product = make_product(price=3000, stock=5)
        order = placed_order(buyer, (product, 1), key=f"order-key-{buyer.id:014d}x", method=BANK)
    Order.update(
        created_at=to_naive_utc(AT - datetime.timedelta(hours=3)),
        auto_cancel_at=to_naive_utc(AT + datetime.timedelta(hours=48)),
    ).where(Order.id == order.id).execute()
    return order


def sent_reminder(order):
    reminder = Reminder.get(Reminder.order == order.id)
    return OutboxMessage.get_by_id(reminder.outbox_message_id)


def test_each_reminder_is_written_in_its_customers_language(app, make_customer, make_product):
    french = unpaid_order(app, make_customer, make_product, "Zoé", "fr")
    english = unpaid_order(app, make_customer, make_product, "Ann", "en")
    with app.test_request_context(headers={"Accept-Language": "en"}):  # whoever runs the batch
        plan_batch(open_window(AT), AT)
        assert send_planned(AT) == 2
    message = sent_reminder(french)
    assert message.subject.startswith(f"Votre commande {french.number} attend votre paiement")
    assert "Bonjour Zoé," in message.text_body
    assert (
        "Payez avant 11:00 aujourd’hui et votre commande part avec l’expédition du jour." in message.text_body
    )
    assert "30,00" in message.text_body and "30.00" not in message.text_body  # amounts in French too
    assert "Arrêter les relances de paiement" in message.html_body
    message = sent_reminder(english)
    assert message.subject.startswith(f"Your order {english.number} is waiting for payment")
    assert "Pay before 11:00 today and your order leaves with today's dispatch." in message.text_body


def test_an_owners_own_text_is_sent_as_written_to_everyone(app, owner, make_customer, make_product):
    french = unpaid_order(app, make_customer, make_product, "Zoé", "fr")
    with app.test_request_context():
        save_template("new", "Order {order_number}: please pay", "Dear {first_name}, please pay.", owner)
        plan_batch(open_window(AT), AT)
        assert send_planned(AT) == 1
    message = sent_reminder(french)
    assert message.subject.startswith(f"Order {french.number}: please pay")
    assert "Dear Zoé, please pay." in message.text_body
    assert "Arrêtez-les ici" in message.text_body  # what the shop adds is in her language


def test_the_owners_french_wording_goes_to_french_customers(app, owner, make_customer, make_product):
    french = unpaid_order(app, make_customer, make_product, "Zoé", "fr")
    translated = {
        "subject": {"fr": "Commande {order_number} : à régler"},
        "body": {"fr": "Chère {first_name}, merci."},
    }
    with app.test_request_context():
        save_template(
            "new", "Order {order_number}: please pay", "Dear {first_name}, please pay.", owner, translated
        )
        plan_batch(open_window(AT), AT)
        assert send_planned(AT) == 1
    message = sent_reminder(french)
    assert message.subject.startswith(f"Commande {french.number} : à régler")
    assert "Chère Zoé, merci." in message.text_body


def test_the_owners_category_paragraph_in_french_goes_to_french_customers(
    app, owner_client, make_customer, make_product
):
    french = unpaid_order(app, make_customer, make_product, "Zoé", "fr")
    english = unpaid_order(app, make_customer, make_product, "Zoe", "en")
    category = Product.get_by_id(OrderLine.get(OrderLine.order == french.id).product_id).category_id
    form = {
        f"category_{category}": "Keep the beans cool.",
        f"category_{category}__fr": "Gardez les grains au frais.",
    }
    page = owner_client.get("/admin/reminders/categories").get_data(as_text=True)
    assert f'name="category_{category}__fr"' in page
    response = post_form(owner_client, "/admin/reminders/categories", form)
    assert response.status_code == 303
    with app.test_request_context():
        plan_batch(open_window(AT), AT)
        assert send_planned(AT) == 2
    assert "Gardez les grains au frais." in sent_reminder(french).text_body
    assert "Keep the beans cool." in sent_reminder(english).text_body


def test_the_demo_is_written_in_the_shops_language(app):
    french_shop = SimpleNamespace(locale="fr_FR")
    assert demo_words(SimpleNamespace(locale="en_GB")) == {}
    with app.test_request_context():
        load_demo_catalogue(demo_words(french_shop))
        load_demo_delivery("FR", demo_words(french_shop))
    assert Product.get(Product.slug == "house-blend-250g").name == "Mélange maison, 250 g"
    assert Category.get(Category.slug == "coffee").name == "Café"
    assert {method.name for method in DeliveryMethod.select()} >= {"Retrait en boutique", "Standard"}


def test_the_reminder_editor_shows_the_shops_own_wording_whatever_the_owners_page_language(owner_client):
    page = owner_client.get("/admin/reminders/templates/new", headers=FRENCH).get_data(as_text=True)
    english_subject = str(DEFAULT_TEMPLATES["new"][0])
    assert 'lang="fr"' in page
    assert f'value="{escape(english_subject)}"' in page  # the shop's language is English
