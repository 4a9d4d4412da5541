"""VAT (issue 24): the shop's rates, each product's rate, and the VAT every order records.

- `vat_rate`: the rates the owner defines (name, rate in basis points: 2000 = 20 %), one of them
  the default; a rate in use is archived, never deleted. Seeded with the French rates (20 %
  standard and default, 10 %, 5.5 %, 2.1 %) whatever the shop's country: the owner edits them.
- `product.vat_rate_id`: the product's rate (NULL: the shop's default rate). Existing products
  get the default rate.
- `order_line.vat_rate_bp`: a product line's rate as it was when the order was placed (NULL for
  orders placed before this migration, and for delivery, shipping and discount lines).
- `order_vat`: one row per rate of an order (gross, base, VAT in minor units), written when the
  order is placed (models/orders/vat.py).
- `shop_settings.vat_mode` ("included" | "not_applicable") and
  `shop_settings.vat_distance_selling_under_threshold`.
"""

import datetime

from peewee import BooleanField
from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import Model
from peewee import Table

FRENCH_RATES = (
    ("Standard rate", 2000, True),
    ("Intermediate rate", 1000, False),
    ("Reduced rate", 550, False),
    ("Super-reduced rate", 210, False),
)


def up(migrator, db):
    class VatRate(Model):
        name = CharField()
        rate_bp = IntegerField()
        is_default = BooleanField(default=False)
        archived = BooleanField(default=False, index=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "vat_rate"

    class OrderRef(Model):
        class Meta:
            database = db
            table_name = "order"

    class OrderVat(Model):
        order = ForeignKeyField(OrderRef, on_delete="CASCADE", index=True)
        rate_bp = IntegerField()
        gross = IntegerField()
        base = IntegerField()
        vat = IntegerField()

        class Meta:
            database = db
            table_name = "order_vat"
            indexes = ((("order", "rate_bp"), True),)

    db.create_tables([VatRate, OrderVat])
    VatRate.insert_many(
        [{"name": name, "rate_bp": bp, "is_default": default} for name, bp, default in FRENCH_RATES]
    ).execute()
    default_id = VatRate.get(VatRate.is_default == True).id  # noqa: E712
    migrator.migrate(
        migrator.add_column(
            "product",
            "vat_rate_id",
            ForeignKeyField(VatRate, null=True, on_delete="RESTRICT", field=VatRate.id),
        ),
        migrator.add_column("order_line", "vat_rate_bp", IntegerField(null=True)),
        migrator.add_column("shop_settings", "vat_mode", CharField(default="included")),
        migrator.add_column(
            "shop_settings", "vat_distance_selling_under_threshold", BooleanField(default=False)
        ),
    )
    products = Table("product", ("id", "vat_rate_id")).bind(db)
    products.update({products.vat_rate_id: default_id}).execute()


def down(migrator, db):
    for table, column in (
        ("shop_settings", "vat_distance_selling_under_threshold"),
        ("shop_settings", "vat_mode"),
        ("order_line", "vat_rate_bp"),
        ("product", "vat_rate_id"),
    ):
        migrator.migrate(migrator.drop_column(table, column))
    db.execute_sql('DROP TABLE IF EXISTS "order_vat"')
    db.execute_sql('DROP TABLE IF EXISTS "vat_rate"')
