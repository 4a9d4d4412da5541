"""The catalogue: categories, products, their pictures, and the rules for changing them.

Prices are integer minor units, like every amount in the shop. Stock is a
whole number of items on the shelf (never negative, enforced by the table
too); the cart caps quantities at it and checkout will take from it.

Who may change what: staff and the owner both look after the catalogue
(names, descriptions, pictures, stock, categories, hiding a product), since
staff help run the shop day to day. Changing the price of an existing
product is the owner's decision only: a price change alters what every
customer with the product in their cart is about to pay, so it is a
commercial call, not shop-floor upkeep. Staff still enter the price of a
product they add (from the supplier's list); every change is audited.

Pictures (models/storefront/pictures.py): the owner or staff upload a JPEG, PNG or WebP of
at most 2 MB; it is decoded with Pillow (refused if it isn't one of those or has too many
pixels), turned upright, stripped of its metadata (EXIF and its GPS position) and kept in the
database as WebP renditions 320, 640 and 1024 pixels wide (never enlarged), so every host and
every backup has them. `Product.image` holds the picture's key, which is new for every upload,
so its addresses can be cached forever. The instance folder's product-images directory of
earlier versions is no longer used: migration 0033 moved its pictures into the database.
"""

import re
import unicodedata

from flask_babel import format_number
from flask_babel import gettext
from flask_babel import lazy_gettext
from peewee import BooleanField
from peewee import Case
from peewee import CharField
from peewee import Check
from peewee import DateTimeField
from peewee import fn
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import IntegrityError
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.shop.audit import audit
from models.storefront.pictures import delete_picture
from models.storefront.pictures import rendition_widths
from models.storefront.pictures import renditions_of_upload
from models.storefront.pictures import store_renditions
from models.storefront.pictures import valid_key
from models.values import MONEY_MAX

STOCK_MAX = 1_000_000
LOW_STOCK = 5  # "Only 3 left" from here down
NAME_MAX = 120
SLUG_MAX = 80
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# Why a product is excluded from the right of withdrawal (Directive 2011/83/EU, Article 16): only
# the cases that hold whatever happens after delivery. Sealed hygiene goods and sealed recordings
# are left out on purpose: they are excluded only once unsealed, which the shop learns when the
# goods come back, not when the customer withdraws. {code: what the product page says}.
WITHDRAWAL_EXCLUSIONS = {
    "made_to_order": lazy_gettext("Made to your specifications: not covered by the right of withdrawal."),
    "perishable": lazy_gettext("Perishable: not covered by the right of withdrawal."),
}


class Category(BaseModel):
    name = CharField(unique=True)
    slug = CharField(unique=True)
    description = TextField(default="")
    position = IntegerField(default=0, index=True)  # smaller first on the shop's pages
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class Product(BaseModel):
    name = CharField()
    slug = CharField(unique=True)
    description = TextField(default="")
    price = IntegerField(constraints=[Check("price > 0")])  # minor units
    category = ForeignKeyField(Category, on_delete="RESTRICT", index=True, backref="products")
    image = CharField(null=True)  # the picture's key (ProductPicture.key), None for the placeholder
    image_width = IntegerField(null=True)  # of the largest rendition: the picture's aspect ratio
    image_height = IntegerField(null=True)
    stock = IntegerField(default=0, constraints=[Check("stock >= 0")])
    active = BooleanField(default=True, index=True)
    # Why it is excluded from the right of withdrawal ("" = it isn't): WITHDRAWAL_EXCLUSIONS.
    withdrawal_exclusion = CharField(default="")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    @property
    def withdrawal_note(self):
        """The product page's line about the right of withdrawal, or None when it applies."""
        return WITHDRAWAL_EXCLUSIONS.get(self.withdrawal_exclusion)

    @property
    def in_stock(self):
        return self.stock > 0

    @property
    def low_stock(self):
        return 0 < self.stock <= LOW_STOCK

    @property
    def initials(self):
        """Up to two letters for the picture placeholder."""
        words = [w for w in re.split(r"\W+", self.name) if len(w) > 1 and w[0].isalpha()]  # not "250 g"
        return "".join(w[0] for w in words[:2]).upper() or "?"

    @property
    def picture_widths(self):
        """The widths of the picture's renditions, narrowest first ([] without a picture)."""
        return rendition_widths(self.image_width) if self.image else []

    @property
    def tone(self):
        """One of six placeholder colours, stable per product."""
        return (self.id or 0) % 6


class CatalogInvalid(Exception):
    """Changes that break a catalogue rule: {field name: message for the person typing}."""

    def __init__(self, errors):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# Reading ------------------------------------------------------------------------


def all_categories():
    return list(Category.select().order_by(Category.position, Category.name))


def storefront_categories():
    """Categories with something to buy, in the owner's order, each with its count of active products."""
    count = fn.COUNT(Product.id)
    query = (
        Category.select(Category, count.alias("product_count"))
        .join(Product)
        .where(Product.active)
        .group_by(Category.id)
        .having(count > 0)
        .order_by(Category.position, Category.name)
    )
    return list(query)


# Wherever customers see a list of products, those they can buy come first and the sold-out
# ones after them (still shown, marked "Sold out": a customer may want to know they exist).
SOLD_OUT_LAST = Case(None, [(Product.stock > 0, 0)], 1)


def active_products(category=None, limit=None, offset=0):
    """Products customers may see, in a stable order: by category, in stock first, then by name."""
    query = (
        Product.select(Product, Category)
        .join(Category)
        .where(Product.active)
        .order_by(Category.position, Category.name, SOLD_OUT_LAST, Product.name, Product.id)
    )
    if category is not None:
        query = query.where(Product.category == category)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(query)


def newest_products(limit):
    """The shop's newest products for the home page's "New in": in stock first, then newest first."""
    return list(
        Product.select(Product, Category)
        .join(Category)
        .where(Product.active)
        .order_by(SOLD_OUT_LAST, Product.created_at.desc(), Product.id.desc())
        .limit(limit)
    )


def count_active_products(category=None):
    query = Product.select().where(Product.active)
    if category is not None:
        query = query.where(Product.category == category)
    return query.count()


def active_product(slug):
    """The product at /p/<slug>, or None when it doesn't exist or is hidden."""
    return (
        Product.select(Product, Category)
        .join(Category)
        .where((Product.slug == slug) & Product.active)
        .first()
    )


def category_by_slug(slug):
    return Category.get_or_none(Category.slug == slug)


def products_for_admin(limit=None, offset=0):
    query = (
        Product.select(Product, Category)
        .join(Category)
        .order_by(Product.active.desc(), Category.position, Category.name, Product.name, Product.id)
    )
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(query)


def product_counts_by_category():
    """{category id: number of products, hidden ones included} for the admin list."""
    query = Product.select(Product.category, fn.COUNT(Product.id).alias("n")).group_by(Product.category)
    return {row.category_id: row.n for row in query}


# Slugs --------------------------------------------------------------------------


def slugify(text):
    """A web address part from a name: 'Crème brûlée Café' -> 'creme-brulee-cafe'."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:SLUG_MAX].rstrip("-")


def _free_slug(model, base, exclude_id=None):
    """`base`, or `base-2`, `base-3`… whichever no other row of `model` uses."""
    candidate, n = base, 2
    while True:
        query = model.select().where(model.slug == candidate)
        if exclude_id is not None:
            query = query.where(model.id != exclude_id)
        if not query.exists():
            return candidate
        suffix = f"-{n}"
        candidate = base[: SLUG_MAX - len(suffix)].rstrip("-") + suffix
        n += 1


def _resolve_slug(model, typed, name, fallback, exclude_id, errors):
    """The slug to store: the typed one if free, else one made from the name."""
    if typed:
        if not SLUG_PATTERN.match(typed) or len(typed) > SLUG_MAX:
            errors["slug"] = gettext("Use lowercase letters, digits and single hyphens, like green-tea.")
            return None
        query = model.select().where(model.slug == typed)
        if exclude_id is not None:
            query = query.where(model.id != exclude_id)
        if query.exists():
            errors["slug"] = gettext("Another one already uses that web address. Choose a different one.")
            return None
        return typed
    return _free_slug(model, slugify(name) or fallback, exclude_id)


# Categories ---------------------------------------------------------------------


def _category_snapshot(category):
    return {
        "name": category.name,
        "slug": category.slug,
        "position": category.position,
        "description": category.description,
    }


def _check_category(fields, category=None):
    errors = {}
    name = (fields.get("name") or "").strip()
    if not name:
        errors["name"] = gettext("Give the category a name.")
    else:
        query = Category.select().where(fn.LOWER(Category.name) == name.lower())
        if category is not None:
            query = query.where(Category.id != category.id)
        if query.exists():
            errors["name"] = gettext("Another category already has that name.")
    slug = _resolve_slug(
        Category, fields.get("slug") or "", name, "category", category.id if category else None, errors
    )
    return errors, name, slug


def next_category_position():
    return (Category.select(fn.MAX(Category.position)).scalar() or 0) + 10


def create_category(fields, actor):
    with write_transaction():
        errors, name, slug = _check_category(fields)
        if errors:
            raise CatalogInvalid(errors)
        position = fields.get("position")
        try:
            category = Category.create(
                name=name,
                slug=slug,
                description=fields.get("description") or "",
                position=next_category_position() if position is None else position,
            )
        except IntegrityError:
            raise CatalogInvalid(
                {"name": gettext("Another category was just saved with that name.")}
            ) from None
        audit(actor, "category_created", f"category {category.id}", after=_category_snapshot(category))
    return category


def update_category(category, fields, actor):
    with write_transaction():
        errors, name, slug = _check_category(fields, category)
        if errors:
            raise CatalogInvalid(errors)
        before = _category_snapshot(category)
        category.name = name
        category.slug = slug
        category.description = fields.get("description") or ""
        if fields.get("position") is not None:
            category.position = fields["position"]
        category.updated_at = utcnow()
        category.save()
        audit(
            actor,
            "category_changed",
            f"category {category.id}",
            before=before,
            after=_category_snapshot(category),
        )
    return category


# Products -----------------------------------------------------------------------

PRODUCT_FIELDS = (
    "name",
    "slug",
    "description",
    "price",
    "category_id",
    "stock",
    "active",
    "withdrawal_exclusion",
)


def _product_snapshot(product):
    return {
        "name": product.name,
        "slug": product.slug,
        "category": product.category_id,
        "price": product.price,
        "stock": product.stock,
        "active": product.active,
        "withdrawal_exclusion": product.withdrawal_exclusion,
        "image": product.image or "",
        "description": product.description,
    }


def _check_product(fields, actor, product=None):
    """Every rule a product's fields must meet, as {field: message}, plus the slug to store."""
    errors = {}
    name = (fields.get("name") or "").strip()
    if not name:
        errors["name"] = gettext("Give the product a name.")
    elif len(name) > NAME_MAX:
        errors["name"] = gettext("Use at most %(number)s characters.", number=NAME_MAX)
    price = fields.get("price")
    if product is not None and price is not None and price != product.price and not actor.is_owner:
        errors["price"] = gettext("Only the owner changes prices. Ask them, or leave the price as it is.")
    elif price is None and product is None:
        errors["price"] = gettext("Enter a price, like 4.50.")
    elif price is not None and not 0 < price <= MONEY_MAX:
        errors["price"] = gettext("Enter a price above zero and below 1,000,000.")
    stock = fields.get("stock")
    if stock is None or not 0 <= stock <= STOCK_MAX:
        errors["stock"] = gettext(
            "Enter how many are in stock, from 0 to %(number)s.", number=format_number(STOCK_MAX)
        )
    category_id = fields.get("category_id")
    if category_id is None or not Category.select().where(Category.id == category_id).exists():
        errors["category_id"] = gettext("Choose a category.")
    if (fields.get("withdrawal_exclusion") or "") not in ("", *WITHDRAWAL_EXCLUSIONS):
        errors["withdrawal_exclusion"] = gettext("Choose one of the listed answers.")
    slug = _resolve_slug(
        Product, fields.get("slug") or "", name, "product", product.id if product else None, errors
    )
    return errors, name, slug


def create_product(fields, actor, image=None):
    """A new product; `image` is a StoredPicture already saved with `store_image`."""
    with write_transaction():
        errors, name, slug = _check_product(fields, actor)
        if errors:
            raise CatalogInvalid(errors)
        try:
            product = Product.create(
                name=name,
                slug=slug,
                description=fields.get("description") or "",
                price=fields["price"],
                category=fields["category_id"],
                stock=fields["stock"],
                active=bool(fields.get("active", True)),
                withdrawal_exclusion=fields.get("withdrawal_exclusion") or "",
                **_image_columns(image),
            )
        except IntegrityError:
            raise CatalogInvalid(
                {"slug": gettext("Another product was just saved with that web address.")}
            ) from None
        audit(actor, "product_created", f"product {product.id}", after=_product_snapshot(product))
    return product


def update_product(product, fields, actor, image=None, remove_image=False):
    """Save the edit; returns the key of the picture it no longer uses (to delete), or None."""
    with write_transaction():
        product = Product.get_by_id(product.id)  # the row as it is now, inside the lock
        errors, name, slug = _check_product(fields, actor, product)
        if errors:
            raise CatalogInvalid(errors)
        before = _product_snapshot(product)
        old_image = product.image
        product.name = name
        product.slug = slug
        product.description = fields.get("description") or ""
        if fields.get("price") is not None:
            product.price = fields["price"]
        product.category = fields["category_id"]
        product.stock = fields["stock"]
        product.active = bool(fields.get("active", product.active))
        product.withdrawal_exclusion = fields.get("withdrawal_exclusion", product.withdrawal_exclusion) or ""
        if image is not None:
            for column, value in _image_columns(image).items():
                setattr(product, column, value)
        elif remove_image:
            product.image = product.image_width = product.image_height = None
        product.updated_at = utcnow()
        product.save()
        audit(
            actor, "product_changed", f"product {product.id}", before=before, after=_product_snapshot(product)
        )
    return old_image if old_image and old_image != product.image else None


def set_product_active(product, active, actor):
    """Show or hide a product in the shop (hidden products stay in carts as 'no longer available')."""
    with write_transaction():
        changed = Product.update(active=active, updated_at=utcnow()).where(
            (Product.id == product.id) & (Product.active != active)
        )
        if changed.execute():
            audit(
                actor,
                "product_shown" if active else "product_hidden",
                f"product {product.id}",
                before={"active": not active},
                after={"active": active},
            )
    return Product.get_by_id(product.id)


def _image_columns(image):
    if image is None:
        return {}
    return {"image": image.key, "image_width": image.width, "image_height": image.height}


def image_in_use(key):
    return Product.select().where(Product.image == key).exists()


# Pictures -----------------------------------------------------------------------


def keys_in_use():
    return Product.select(Product.image).where(Product.image.is_null(False))


def store_image(data, now=None):
    """Check an upload and keep its renditions; returns a StoredPicture (ImageRejected if refused).

    The work on the pixels happens before the write transaction opens."""
    return store_image_renditions(renditions_of_upload(data), now=now)


def store_image_renditions(made, now=None):
    """Keep renditions made already (`pictures.renditions`); returns a StoredPicture."""
    return store_renditions(made, keys_in_use(), now=now)


def delete_unused_image(key):
    """Delete a picture no product uses any more (called after the change is committed)."""
    if not valid_key(key):
        return
    with write_transaction():
        if not image_in_use(key):
            delete_picture(key)
