"""Invoices with gap-free numbers and credit notes (issue 24).

- `shop_settings`: the seller's legal identity printed on every invoice and credit note (legal
  name, address, company number, VAT number, a free line for the legal form, capital, register).
- `document_counter`: one row per (kind, year) holding the last number given; a payment or a
  refund takes the next one in its own write transaction (models/orders/invoice.py).
- `invoice`: one per order paid from now on, with snapshots of the seller and the buyer as they
  were when it was issued; like credit notes, never updated nor deleted (triggers). Orders paid before keep their order number as invoice number.
- `credit_note`: one per refund that gave money back, pointing at the invoice (or, for an order
  paid before invoices had their own numbers, at the order number that served as one).
"""

import datetime

from peewee import CharField
from peewee import DateField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import Model
from peewee import TextField

from models.dialect import create_append_only_triggers
from models.dialect import drop_append_only_triggers

DOCUMENTS = ("invoice", "credit_note")
SETTINGS_COLUMNS = ("legal_name", "legal_address", "company_number", "vat_number", "legal_mentions")


def up(migrator, db):
    migrator.migrate(
        *[migrator.add_column("shop_settings", name, TextField(default="")) for name in SETTINGS_COLUMNS]
    )

    class Order(Model):
        class Meta:
            database = db
            table_name = "order"

    class OrderRefund(Model):
        class Meta:
            database = db
            table_name = "order_refund"

    class DocumentCounter(Model):
        kind = CharField()
        year = IntegerField()
        last_number = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "document_counter"
            indexes = ((("kind", "year"), True),)

    class Invoice(Model):
        number = CharField(unique=True)
        order = ForeignKeyField(Order, on_delete="RESTRICT", unique=True)
        issued_at = DateTimeField(default=datetime.datetime.utcnow)
        local_date = DateField(index=True)
        seller_name = TextField(default="")
        seller_address = TextField(default="")
        seller_company_number = TextField(default="")
        seller_vat_number = TextField(default="")
        seller_mentions = TextField(default="")
        seller_email = TextField(default="")
        buyer_name = TextField(default="")
        buyer_company = TextField(default="")
        buyer_address = TextField(default="")
        buyer_country = CharField(default="")

        class Meta:
            database = db
            table_name = "invoice"

    class CreditNote(Model):
        number = CharField(unique=True)
        order = ForeignKeyField(Order, on_delete="RESTRICT", index=True)
        invoice = ForeignKeyField(Invoice, null=True, on_delete="RESTRICT", index=True)
        invoice_number = CharField()
        order_refund = ForeignKeyField(OrderRefund, on_delete="RESTRICT", unique=True)
        amount = IntegerField()
        reason = TextField(default="")
        issued_at = DateTimeField(default=datetime.datetime.utcnow)
        local_date = DateField(index=True)

        class Meta:
            database = db
            table_name = "credit_note"

    db.create_tables([DocumentCounter, Invoice, CreditNote])
    create_append_only_triggers(db, DOCUMENTS)  # issued documents are never edited nor deleted


def down(migrator, db):
    drop_append_only_triggers(db, DOCUMENTS)
    for table in ("credit_note", "invoice", "document_counter"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
    migrator.migrate(*[migrator.drop_column("shop_settings", name) for name in SETTINGS_COLUMNS])
