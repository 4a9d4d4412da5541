"""Demo data for `flask --app shop demo` and `make run`. Running it twice changes nothing.

What customers read (the tagline, category and product names and descriptions, delivery methods)
is written in the shop's language when the demo is loaded: English, or French for a shop whose
locale is French (`DEMO_FRENCH`, by slug; the slugs and everything else stay the same). The lines
it returns are the command line's, in English.
"""

import functools

from flask import has_app_context

from models.accounts.addresses import add_address
from models.accounts.administration import create_user
from models.base import write_transaction
from models.operations.demo_pictures import demo_picture
from models.orders.fulfilment import dispatch
from models.orders.fulfilment import receive_bank_transfer
from models.orders.order import BANK
from models.orders.order import Order
from models.orders.placing import cart_fingerprint
from models.orders.placing import place_order
from models.shop.language import shop_language
from models.shop.settings import load_settings
from models.shop.settings import ShopSettings
from models.storefront.cart import add_to_cart
from models.storefront.cart import cart_summary
from models.storefront.cart import find_cart
from models.storefront.catalog import Category
from models.storefront.catalog import Product
from models.storefront.catalog import store_image_renditions
from models.storefront.delivery import create_method
from models.storefront.delivery import DeliveryMethod
from models.storefront.delivery import offers_fingerprint
from models.storefront.delivery import offers_for
from models.storefront.pictures import renditions
from models.storefront.vat_rates import default_rate
from models.storefront.vat_rates import VatRate
from models.users.user import CUSTOMER
from models.users.user import OWNER
from models.users.user import STAFF
from models.users.user import User

DEMO_PASSWORD = "demo-password"  # noqa: S105 - the published demo password

DEMO_PEOPLE = [
    ("owner@demo.shop", OWNER, "Olivia", "Owner"),
    ("staff@demo.shop", STAFF, "Sam", "Staff"),
    ("alice@demo.shop", CUSTOMER, "Alice", "Anderson"),
    ("bob@demo.shop", CUSTOMER, "Bob", "Brown"),
    ("carol@demo.shop", CUSTOMER, "Carol", "Clarke"),
    ("dan@demo.shop", CUSTOMER, "Dan", "Davies"),  # has orders in every state; the others start empty
]


DEMO_BANK = {
    "bank_account_name": "Demo Shop Ltd",
    "bank_iban": "GB33 BUKB 2020 1555 5555 55",
    "bank_bic": "BUKBGB22",
}
DEMO_TAGLINE = "Coffee roasted in small batches, loose-leaf tea and the gear to brew them at home."


def load_demo_data(delivery=True):
    """Create whatever demo data is missing; returns lines describing it. `delivery=False` leaves
    out the delivery methods (the browser tests' shop, whose flows add their own)."""
    settings = load_settings()
    if not settings.bank_iban:
        with write_transaction():
            ShopSettings.update(**DEMO_BANK).where(ShopSettings.id == 1).execute()
    words = demo_words(settings)
    if not settings.tagline:
        with write_transaction():
            ShopSettings.update(tagline=words.get("tagline", DEMO_TAGLINE)).where(
                ShopSettings.id == 1
            ).execute()
    lines = [f"Demo accounts (password: {DEMO_PASSWORD}):"]
    for email, role, first_name, last_name in DEMO_PEOPLE:
        if User.by_email(email) is None:
            create_user(email, DEMO_PASSWORD, role=role, first_name=first_name, last_name=last_name)
        lines.append(f"  {role:<8} {email}")
    lines.append(load_demo_catalogue(words))
    if delivery:
        lines.append(load_demo_delivery(settings.country, words))
    if has_app_context():  # placing orders renders their emails
        lines.append(load_demo_orders(words))
    return lines


def demo_words(settings=None):
    """The demo's customer-facing texts in the shop's language: {} for English (the lists below),
    else that language's texts by slug (DEMO_FRENCH)."""
    return DEMO_WORDS.get(shop_language(settings), {})


# (slug, name, position, description)
DEMO_CATEGORIES = [
    ("coffee", "Coffee", 10, "Whole beans roasted in small batches every week."),
    ("tea", "Tea", 20, "Loose-leaf teas from growers we know by name."),
    ("brewing-gear", "Brewing gear", 30, "Everything to make a good cup at home."),
]

# Coffee and tea are food: the reduced rate (5.5 % in France); brewing gear the standard rate.
DEMO_VAT_BP = {"coffee": 550, "tea": 550, "brewing-gear": 2000}

# (category slug, slug, name, price in minor units, stock, description)
DEMO_PRODUCTS = [
    (
        "coffee",
        "house-blend-250g",
        "House blend, 250 g",
        950,
        40,
        "Our everyday coffee: chocolate, hazelnut and a little red fruit.\n\n"
        "Works as espresso and in a filter. Roasted on Mondays.",
    ),
    (
        "coffee",
        "ethiopia-guji-250g",
        "Ethiopia Guji, 250 g",
        1350,
        3,
        "A washed single origin with jasmine, bergamot and peach. Best as filter coffee.",
    ),
    (
        "coffee",
        "decaf-colombia-250g",
        "Decaf Colombia, 250 g",
        1050,
        0,
        "Sugar-cane decaffeinated, so it keeps its caramel sweetness. Back in stock soon.",
    ),
    (
        "tea",
        "assam-breakfast-100g",
        "Assam breakfast, 100 g",
        650,
        25,
        "Malty and strong enough for milk. Brew for four minutes with water just off the boil.",
    ),
    (
        "tea",
        "sencha-100g",
        "Sencha, 100 g",
        890,
        12,
        "A fresh, grassy green tea from Shizuoka. Brew at 70 °C for one minute.",
    ),
    (
        "tea",
        "chamomile-flowers-50g",
        "Chamomile flowers, 50 g",
        550,
        18,
        "Whole flower heads, honeyed and calm. Caffeine-free.",
    ),
    (
        "brewing-gear",
        "pour-over-dripper",
        "Ceramic pour-over dripper",
        2400,
        6,
        "A size 02 dripper glazed in matt white. Fits most mugs and carafes.",
    ),
    (
        "brewing-gear",
        "paper-filters-100",
        "Paper filters, pack of 100",
        450,
        60,
        "Unbleached size 02 filters for the pour-over dripper.",
    ),
]


def load_demo_catalogue(words=None):
    """A small catalogue with a photo of each product (drawn now: models/operations/demo_pictures.py).
    Only what is missing is added: a product, or the picture of a demo product that has none."""
    words = words or {}
    with write_transaction():
        categories = {}
        for slug, name, position, description in DEMO_CATEGORIES:
            name, description = words.get("categories", {}).get(slug, (name, description))
            category = Category.get_or_none(Category.slug == slug)
            if category is None:
                category = Category.create(slug=slug, name=name, position=position, description=description)
            categories[slug] = category
        added = 0
        for category_slug, slug, name, price, stock, description in DEMO_PRODUCTS:
            name, description = words.get("products", {}).get(slug, (name, description))
            if not Product.select().where(Product.slug == slug).exists():
                Product.create(
                    category=categories[category_slug],
                    slug=slug,
                    name=name,
                    price=price,
                    stock=stock,
                    description=description,
                    vat_rate=_demo_rate(category_slug),
                )
                added += 1
    pictured = load_demo_pictures(words)
    return (
        f"Demo catalogue: {len(DEMO_CATEGORIES)} categories, {len(DEMO_PRODUCTS)} products ({added} added, "
        f"{pictured} pictures drawn)."
    )


@functools.cache
def demo_renditions(slug, name):
    """The WebP renditions of a demo product's photo, drawn once per process (about 0.2 s each)."""
    return renditions(demo_picture(slug, name))


def _demo_rate(category_slug):
    """The seeded rate the demo gives a category's products (the default if the owner removed it)."""
    rate = VatRate.get_or_none((VatRate.rate_bp == DEMO_VAT_BP[category_slug]) & ~VatRate.archived)
    return rate or default_rate()


def load_demo_pictures(words=None):
    """A drawn photo for each demo product without a picture; returns how many were drawn.

    The drawing and the WebP renditions are made outside the write transaction; a picture is
    only given to a product that still has none when it is stored. Its label is the product's
    name in the demo's language."""
    drawn = 0
    for _, slug, name, *_ in DEMO_PRODUCTS:
        name = (words or {}).get("products", {}).get(slug, (name,))[0]
        product = Product.get_or_none((Product.slug == slug) & Product.image.is_null())
        if product is None:
            continue
        picture = store_image_renditions(demo_renditions(slug, name))
        with write_transaction():
            Product.update(image=picture.key, image_width=picture.width, image_height=picture.height).where(
                (Product.id == product.id) & Product.image.is_null()
            ).execute()
        drawn += 1
    return drawn


EUROPE = ["BE", "DE", "ES", "FR", "IE", "IT", "NL", "PT"]


def demo_delivery_methods(home, words=None):
    """Standard and Express at home, Europe for a few EU countries, and a pickup at the shop."""
    methods = [
        {
            "name": "Standard",
            "price": 490,
            "free_above": 6000,
            "countries": [home],
            "estimate": "2–4 working days",
        },
        {"name": "Express", "price": 990, "countries": [home], "estimate": "Next working day"},
        {
            "name": "Europe",
            "price": 1250,
            "countries": [code for code in EUROPE if code != home],
            "estimate": "4–7 working days",
        },
        {
            "name": "Pickup at the shop",
            "price": 0,
            "pickup": True,
            "estimate": "Ready the next working day",
            "details": "12 Market Street. Monday to Saturday, 10:00–18:00. Bring your order number.",
        },
    ]
    translated = (words or {}).get("delivery")
    if not translated:
        return methods
    return [{**method, **texts} for method, texts in zip(methods, translated, strict=True)]


def load_demo_delivery(home, words=None):
    """The demo's delivery methods, unless the shop has some already."""
    if DeliveryMethod.select().exists():
        return "Demo delivery methods: already there."
    methods = demo_delivery_methods(home, words)
    for fields in methods:
        create_method({"free_above": None, "everywhere": False, **fields}, None)
    return f"Demo delivery methods: {len(methods)} ({', '.join(fields['name'] for fields in methods)})."


# (product slug, quantity, what happens after placing)
DEMO_ORDERS = [
    ("house-blend-250g", 2, "waiting"),
    ("pour-over-dripper", 1, "paid"),
    ("assam-breakfast-100g", 3, "dispatched"),
]
DEMO_ADDRESS = {
    "full_name": "Dan Davies",
    "line1": "4 Mill Lane",
    "city": "Bristol",
    "postal_code": "BS1 4DJ",
    "country": "GB",
}


def load_demo_orders(words=None):
    """Dan's orders, paid by bank transfer: one waiting, one paid, one dispatched (once only)."""
    dan = User.by_email("dan@demo.shop")
    owner = User.get(User.role == OWNER)
    if Order.select().where(Order.user == dan).exists():
        return "Demo orders: already there."
    where = add_address(dan, DEMO_ADDRESS, make_default_billing=True, make_default_shipping=True)
    for number, (slug, quantity, state) in enumerate(DEMO_ORDERS, 1):
        add_to_cart(Product.get(Product.slug == slug).id, quantity, user=dan)
        summary = cart_summary(find_cart(dan))
        offers = offers_for(where.country, summary.subtotal)
        order = place_order(
            dan,
            f"demo-order-{number:012d}",
            cart_fingerprint(summary),
            where,
            where,
            method=BANK,
            delivery_method_id=offers[0].method_id if offers else None,
            delivery_seen=offers_fingerprint(offers),
        )
        if state in ("paid", "dispatched"):
            receive_bank_transfer(order, owner)
        if state == "dispatched":
            dispatch([order], owner, (words or {}).get("dispatch", "Royal Mail, tracking number DEMO0001GB"))
    return f"Demo orders: {len(DEMO_ORDERS)} for dan@demo.shop (waiting, paid, dispatched)."


# The demo's customer-facing texts in French (a French shop's demo), by slug. Names and
# descriptions as a French shop writes them; amounts and slugs are the English lists'.
DEMO_FRENCH = {
    "tagline": "Du café torréfié en petites fournées, du thé en vrac et tout le matériel pour les "
    "préparer chez vous.",
    "categories": {
        "coffee": ("Café", "Des grains entiers torréfiés chaque semaine en petites fournées."),
        "tea": ("Thé", "Des thés en vrac de producteurs que nous connaissons personnellement."),
        "brewing-gear": ("Matériel", "Tout ce qu’il faut pour préparer une bonne tasse chez soi."),
    },
    "products": {
        "house-blend-250g": (
            "Mélange maison, 250 g",
            "Notre café de tous les jours : chocolat, noisette et une pointe de fruits rouges.\n\n"
            "Parfait en espresso comme en filtre. Torréfié le lundi.",
        ),
        "ethiopia-guji-250g": (
            "Éthiopie Guji, 250 g",
            "Une origine unique lavée, aux notes de jasmin, de bergamote et de pêche. Idéal en filtre.",
        ),
        "decaf-colombia-250g": (
            "Colombie décaféiné, 250 g",
            "Décaféiné à la canne à sucre : il garde toute sa douceur caramélisée. Bientôt de retour en stock.",
        ),
        "assam-breakfast-100g": (
            "Assam breakfast, 100 g",
            "Malté et corsé, il se marie bien avec un nuage de lait. Infusez quatre minutes dans une eau "
            "tout juste frémissante.",
        ),
        "sencha-100g": (
            "Sencha, 100 g",
            "Un thé vert frais et herbacé de Shizuoka. Infusez une minute à 70\u00a0°C.",
        ),
        "chamomile-flowers-50g": (
            "Fleurs de camomille, 50 g",
            "Des capitules entiers, doux comme le miel et apaisants. Sans théine.",
        ),
        "pour-over-dripper": (
            "Dripper en céramique",
            "Un dripper taille 02 émaillé blanc mat. Il s’adapte à la plupart des tasses et carafes.",
        ),
        "paper-filters-100": (
            "Filtres en papier, paquet de 100",
            "Filtres non blanchis taille 02, pour le dripper.",
        ),
    },
    # In the order of demo_delivery_methods().
    "delivery": [
        {"name": "Standard", "estimate": "2 à 4 jours ouvrés"},
        {"name": "Express", "estimate": "Le jour ouvré suivant"},
        {"name": "Europe", "estimate": "4 à 7 jours ouvrés"},
        {
            "name": "Retrait en boutique",
            "estimate": "Prêt le jour ouvré suivant",
            "details": "12 Market Street. Du lundi au samedi, de 10\u00a0h à 18\u00a0h. Munissez-vous de votre "
            "numéro de commande.",
        },
    ],
    "dispatch": "La Poste, numéro de suivi DEMO0001GB",
}
DEMO_WORDS = {"fr": DEMO_FRENCH}
