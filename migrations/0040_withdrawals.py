"""The EU withdrawal function (issue 24; models/withdrawals/).

- `order.delivered_at`: when the owner marked the order delivered (or, for a pickup, collected).
- `delivery_method.max_days` and its copy `order.delivery_max_days`: the longest delivery time in
  days, which ends the withdrawal period of a dispatched order not marked delivered.
- `product.withdrawal_exclusion` and its copy `order_line.withdrawal_exclusion`: why a product is
  excluded from the right of withdrawal ("" = it isn't), copied at placement.
- `withdrawal` and `withdrawal_line`: the customer's statements, with the lines and quantities
  withdrawn, and the refund that settled them.
"""

from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import Model


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("order", "delivered_at", DateTimeField(null=True)),
        migrator.add_column("delivery_method", "max_days", IntegerField(null=True)),
        migrator.add_column("order", "delivery_max_days", IntegerField(null=True)),
        migrator.add_column("product", "withdrawal_exclusion", CharField(default="")),
        migrator.add_column("order_line", "withdrawal_exclusion", CharField(default="")),
    )

    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Order(Base):
        class Meta:
            table_name = "order"

    class OrderLine(Base):
        class Meta:
            table_name = "order_line"

    class OrderRefund(Base):
        class Meta:
            table_name = "order_refund"

    class Withdrawal(Base):
        order = ForeignKeyField(Order, on_delete="RESTRICT", index=True)
        name = CharField()
        email = CharField()
        destination = CharField()
        stated_at = DateTimeField(index=True)
        state = CharField(default="received", index=True)
        refund = ForeignKeyField(OrderRefund, null=True, on_delete="RESTRICT")
        refunded_at = DateTimeField(null=True)
        idempotency_key = CharField(unique=True)

        class Meta:
            table_name = "withdrawal"

    class WithdrawalLine(Base):
        withdrawal = ForeignKeyField(Withdrawal, on_delete="CASCADE", index=True)
        order_line = ForeignKeyField(OrderLine, on_delete="RESTRICT", index=True)
        quantity = IntegerField()

        class Meta:
            table_name = "withdrawal_line"

    db.create_tables([Withdrawal, WithdrawalLine])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "withdrawal_line"')
    db.execute_sql('DROP TABLE IF EXISTS "withdrawal"')
    migrator.migrate(
        migrator.drop_column("order_line", "withdrawal_exclusion"),
        migrator.drop_column("product", "withdrawal_exclusion"),
        migrator.drop_column("order", "delivery_max_days"),
        migrator.drop_column("delivery_method", "max_days"),
        migrator.drop_column("order", "delivered_at"),
    )
