"""The reminders report in a browser (issue 26): reminded against held out with the difference and
its sentence, wording A against B, and the owner promoting B with one click, on a desktop and
at 390 px; a reminder with its items' pictures on a phone (screenshots in $SCREENSHOT_DIR when it is set, else the test's tmp_path).

The history is written into the live shop's database (four customers, two orders and reminders
a day in the first half of 2025, far from the periods other tests look at) and taken out again.
"""

import base64
import datetime
import html
import io
import os
import random
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from models.base import connection
from models.base import to_naive_utc
from models.base import write_transaction
from models.orders.order import Order
from models.orders.order import OrderLine
from models.orders.order import PAID
from models.reminders.messages import compose
from models.reminders.messages import default_template
from models.reminders.messages import item_pictures
from models.reminders.messages import reminder_links
from models.reminders.messages import remove_variant
from models.reminders.messages import save_template
from models.reminders.messages import save_variant
from models.reminders.messages import template_for
from models.reminders.records import HELD_OUT
from models.reminders.records import REMINDED
from models.reminders.records import Reminder
from models.reminders.records import ReminderBatch
from models.reminders.records import SENT
from models.shop.language import shop_language
from models.shop.mail import send_text
from models.shop.outbox import OutboxMessage
from models.storefront.catalog import Category
from models.storefront.catalog import Product
from models.storefront.catalog import store_image
from shop import create_app
from tests.browser.conftest import assert_no_horizontal_scroll
from tests.browser.conftest import DESKTOP
from tests.browser.conftest import OWNER_EMAIL
from tests.browser.conftest import sign_in
from tests.browser.test_email_html import looks
from tests.conftest import app_config
from tests.conftest import TEST_ENVIRONMENT
from tests.factories import new_customer
from tests.factories import new_order
from tests.factories import reminder_row
from tests.factories import tz

pytestmark = pytest.mark.browser

FIRST_DAY = datetime.date(2025, 1, 1)
DAYS = 180
REPORT = "/admin/reports/reminders?period=custom&date_from=2025-01-01&date_to=2025-06-30&by=month"


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def history(live_server, live_database, tmp_path):
    """Half a year of reminders to new customers: held out every third day, wording B on every
    other reminded day, paid within 48 hours with known chances."""
    app = create_app(app_config(live_database, tmp_path))
    rng = random.Random(2026)  # noqa: S311 - a fixed seed, no secret
    with app.app_context(), connection():
        # Each customer orders every other day: never "replaced" by the next order (24 hours).
        customers = [new_customer(first_name=name) for name in ("Rita", "Rob", "Ria", "Roy")]
        for number in range(DAYS * 2):
            customer = customers[number % 4]
            day = FIRST_DAY + datetime.timedelta(days=number // 2)
            moment = datetime.datetime.combine(day, datetime.time(10), tzinfo=tz())
            arm = HELD_OUT if number % 3 == 0 else REMINDED
            variant = "B" if arm == REMINDED and number % 4 in (1, 2) else "A"
            order = new_order(customer, moment - datetime.timedelta(hours=2), total=3000)
            row = reminder_row(order, moment, state=SENT if arm == REMINDED else HELD_OUT)
            Reminder.update(arm=arm, variant=variant).where(Reminder.id == row.id).execute()
            chance = {HELD_OUT: 0.2, "A": 0.45, "B": 0.6}[HELD_OUT if arm == HELD_OUT else variant]
            if rng.random() < chance:
                paid_at = moment + datetime.timedelta(hours=rng.uniform(1, 40))
                Order.update(status=PAID, paid_at=to_naive_utc(paid_at)).where(Order.id == order.id).execute()
        save_variant("new", "Still thinking about {first_item}?", "Hello {first_name},\n\n{pay_url}")
    yield
    with app.app_context(), connection(), write_transaction():
        orders = Order.select(Order.id).where(Order.user.in_([customer.id for customer in customers]))
        batches = [row.batch_id for row in Reminder.select(Reminder.batch).where(Reminder.order.in_(orders))]
        Reminder.delete().where(Reminder.order.in_(orders)).execute()
        ReminderBatch.delete().where(ReminderBatch.id.in_(batches)).execute()
        Order.delete().where(Order.id.in_(orders)).execute()
        remove_variant("new")
        if template_for("new", shop_language()) != default_template("new", shop_language()):
            save_template("new", *default_template("new", shop_language()))


@pytest.mark.parametrize("viewport", ["page", "mobile_page"])
def test_the_owner_reads_whether_reminders_work_and_promotes_wording_b(request, viewport, history, shots):
    page = request.getfixturevalue(viewport)
    sign_in(page, OWNER_EMAIL)
    page.goto(REPORT)
    expect(page.get_by_role("heading", level=1, name="Reminders")).to_be_visible()
    lead = page.locator("#report-body > p.report-lead")
    expect(lead).to_have_text(
        re.compile(r"^Reminders brought about \d+ more paid orders in 100, give or take \d+\.$")
    )
    expect(page.locator('td[data-label="Orders held out"]').first).to_have_text("120")
    expect(page.locator('td[data-label="Orders reminded"]').first).to_have_text("240")
    expect(page.get_by_text("Attributable to reminders = the difference")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.screenshot(path=shots / f"reminder-report-{viewport}.png", full_page=True)

    wordings = page.get_by_role("region", name="Wording A against wording B")
    expect(wordings.get_by_text("Wording B becomes this segment's message")).to_be_visible()
    wordings.scroll_into_view_if_needed()
    page.screenshot(path=shots / f"reminder-report-wordings-{viewport}.png")
    wordings.get_by_role("button", name="Promote wording B").click()

    expect(page).to_have_url(re.compile(r"/admin/reports/reminders$"))
    expect(page.get_by_text("Wording B is now the message to new customers.")).to_be_visible()
    assert_no_horizontal_scroll(page)
    page.goto("/admin/reminders/templates/new")
    expect(page.get_by_label("Subject", exact=True)).to_have_value("Still thinking about {first_item}?")
    expect(page.get_by_role("link", name="Write wording B")).to_be_visible()


def test_a_reminder_with_its_items_pictures_fits_a_phone(browser, app, make_customer, shots):
    """The reminder's HTML part with the items' pictures (served here as data: addresses, as the
    browser has no network), at 390 and 320 px and on a desktop."""
    with app.app_context():
        category = Category.create(name="Mugs", slug="mugs")
        products = []
        for number, (name, colour) in enumerate(
            (("Blue mug", (40, 90, 200)), ("Tall green teapot with bamboo handle", (40, 140, 90)))
        ):
            buffer = io.BytesIO()
            Image.new("RGB", (480, 360), colour).save(buffer, "PNG")
            picture = store_image(buffer.getvalue())
            products.append(
                Product.create(
                    name=name,
                    slug=f"item-{number}",
                    price=1500,
                    stock=5,
                    category=category,
                    image=picture.key,
                    image_width=picture.width,
                    image_height=picture.height,
                )
            )
        customer = make_customer(first_name="Ada")
        order = new_order(customer, datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=3))
        for product in products:
            OrderLine.create(
                order=order,
                product_id=product.id,
                name=product.name,
                unit_price=1500,
                quantity=1,
                line_total=1500,
            )
        with app.test_request_context(), write_transaction():
            subject, text = compose(order, "returning", datetime.datetime.now(datetime.UTC))
            send_text(
                customer.email,
                "payment_reminder_returning",
                subject,
                text,
                links=reminder_links(order),
                pictures=item_pictures(order),
            )
        message = OutboxMessage.select().order_by(OutboxMessage.id.desc()).first()
    assert message.subject.startswith("Blue mug and 1 more: your order")
    part = message.html_body
    client = app.test_client()
    for src in set(re.findall(r'<img src="([^"]+)"', part)):
        response = client.get(html.unescape(src).removeprefix(TEST_ENVIRONMENT["SHOP_BASE_URL"]))
        assert response.status_code == 200 and response.mimetype == "image/webp"
        data = base64.b64encode(response.data).decode()
        part = part.replace(src, f"data:image/webp;base64,{data}")
    looks(browser, part, 390, shots, "payment_reminder_pictures")
    looks(browser, part, 320, None, "payment_reminder_pictures")
    looks(browser, part, DESKTOP["width"], shots, "payment_reminder_pictures")
