"""Orders: the order, its lines (copies of name and price), its history, its card payments;
and the shop's auto-cancel time for unpaid orders."""

import datetime

from peewee import CharField
from peewee import DateField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import Model
from peewee import TextField


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):
        class Meta:
            table_name = "user"

    class Order(Base):
        user = ForeignKeyField(User, on_delete="RESTRICT", index=True)
        number = CharField(null=True, unique=True)
        status = CharField(default="pending_payment", index=True)
        channel = CharField(default="shop", index=True)
        payment_method = CharField(default="funds")  # funds | card | bank
        billing_name = CharField(default="")
        billing_company = CharField(default="")
        billing_line1 = CharField(default="")
        billing_line2 = CharField(default="")
        billing_city = CharField(default="")
        billing_region = CharField(default="")
        billing_postal_code = CharField(default="")
        billing_country = CharField(default="")
        billing_phone = CharField(default="")
        shipping_name = CharField(default="")
        shipping_company = CharField(default="")
        shipping_line1 = CharField(default="")
        shipping_line2 = CharField(default="")
        shipping_city = CharField(default="")
        shipping_region = CharField(default="")
        shipping_postal_code = CharField(default="")
        shipping_country = CharField(default="")
        shipping_phone = CharField(default="")
        currency = CharField(max_length=3)
        subtotal = IntegerField()
        funds_discount = IntegerField(default=0)
        total = IntegerField()
        funds_used = IntegerField(default=0)
        credit_used = IntegerField(default=0)
        card_amount = IntegerField(default=0)
        bank_amount = IntegerField(default=0)
        hold_round = IntegerField(default=1)
        idempotency_key = CharField(unique=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow, index=True)
        paid_at = DateTimeField(null=True)
        cancelled_at = DateTimeField(null=True)
        auto_cancel_at = DateTimeField(null=True, index=True)
        local_date = DateField(index=True)

        class Meta:
            table_name = "order"

    class OrderLine(Base):
        order = ForeignKeyField(Order, on_delete="CASCADE", index=True)
        product_id = IntegerField(index=True)
        name = CharField()
        unit_price = IntegerField()
        quantity = IntegerField()
        line_total = IntegerField()
        kind = CharField(default="product")  # product | discount

        class Meta:
            table_name = "order_line"

    class OrderEvent(Base):
        order = ForeignKeyField(Order, on_delete="CASCADE", index=True)
        from_status = CharField(default="")
        to_status = CharField()
        actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
        actor_label = CharField(default="system")
        note = TextField(default="")
        at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "order_event"

    class OrderPayment(Base):
        order = ForeignKeyField(Order, on_delete="RESTRICT", index=True)
        user = ForeignKeyField(User, on_delete="RESTRICT", index=True)
        amount = IntegerField()
        currency = CharField(max_length=3)
        state = CharField(default="pending", index=True)
        provider = CharField(default="sandbox")
        provider_payment_id = CharField(null=True, unique=True)
        redirect_url = TextField(default="")
        outcome = CharField(default="")  # paid_order | reinstated | credited_to_funds
        idempotency_key = CharField(unique=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow, index=True)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "order_payment"

    db.create_tables([Order, OrderLine, OrderEvent, OrderPayment])
    migrator.migrate(migrator.add_column("shop_settings", "auto_cancel_hours", IntegerField(default=72)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("shop_settings", "auto_cancel_hours"))
    for table in ("order_payment", "order_event", "order_line", "order"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
