"""Delivery methods the owner defines, and the one an order was placed with (issue 21).

- `delivery_method`: name, price, free from a goods value, the countries it serves (ISO codes,
  none = everywhere), an estimate such as "2–4 working days", pickup at the shop (no delivery
  address), active, position.
- `order.delivery_*`: a copy of the chosen method as it was when the order was placed (the method
  may change or go later); `delivery_price` is part of the total, and the order also has a line
  of kind "delivery" with that price.
"""

from peewee import BooleanField
from peewee import CharField
from peewee import DateTimeField
from peewee import IntegerField
from peewee import Model


def up(migrator, db):
    class DeliveryMethod(Model):
        name = CharField()
        price = IntegerField(default=0)
        free_above = IntegerField(null=True)
        countries = CharField(default="")
        estimate = CharField(default="")
        pickup = BooleanField(default=False)
        active = BooleanField(default=True, index=True)
        position = IntegerField(default=0)
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "delivery_method"

    db.create_tables([DeliveryMethod])
    migrator.migrate(
        migrator.add_column("order", "delivery_method_id", IntegerField(null=True)),
        migrator.add_column("order", "delivery_name", CharField(default="")),
        migrator.add_column("order", "delivery_price", IntegerField(default=0)),
        migrator.add_column("order", "delivery_estimate", CharField(default="")),
        migrator.add_column("order", "delivery_pickup", BooleanField(default=False)),
    )


def down(migrator, db):
    for column in (
        "delivery_pickup",
        "delivery_estimate",
        "delivery_price",
        "delivery_name",
        "delivery_method_id",
    ):
        migrator.migrate(migrator.drop_column("order", column))
    db.execute_sql('DROP TABLE IF EXISTS "delivery_method"')
