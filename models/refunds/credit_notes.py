"""Credit notes: an invoice is never edited, so money given back is documented by a credit note
with its own number that points at the invoice.

One credit note per refund (orders.py), for the money that actually went back, issued in the
write transaction that settles it:

- a refund to account funds or by bank transfer is made when it is recorded: its credit note
  comes with it (`_record_refund`, which also serves cancellations of paid orders and the
  withdrawal's refunds);
- a refund with a card part waits for the provider's answer: when the card refund succeeds, the
  credit note is for the whole refund; when the provider refuses it, the card part goes back on
  the books (it may be refunded again, with a credit note then) and the credit note is for the
  rest, if any. A credit note for money that never went back would be wrong, and a pending one
  would have to be cancelled by yet another document.

Numbers come from their own gap-free sequence per year, "AV-2026-000012" (« avoir »), like
invoices (models/orders/invoice.py). The table refuses UPDATE and DELETE (migration 0039). An
order paid before invoices had their own numbers points at its order number, its invoice then.
"""

from peewee import CharField
from peewee import DateField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.orders.invoice import document_number
from models.orders.invoice import Invoice
from models.orders.invoice import invoice_of
from models.orders.order import Order

CREDIT_NOTES = "credit_note"
PREFIX = "AV-"


class CreditNote(BaseModel):
    number = CharField(unique=True)
    order = ForeignKeyField(Order, on_delete="RESTRICT", index=True, backref="credit_notes")
    invoice = ForeignKeyField(Invoice, null=True, on_delete="RESTRICT", index=True)
    invoice_number = CharField()  # the invoice's number, or the order's for one paid before
    order_refund_id = IntegerField(unique=True)  # the OrderRefund it documents (a FK, migration 0039)
    amount = IntegerField()
    reason = TextField(default="")  # the refund's note, as typed
    issued_at = DateTimeField(default=utcnow)
    local_date = DateField(index=True)

    class Meta:
        table_name = "credit_note"


def issue_credit_note(refund, amount, now):
    """The credit note of `refund` for `amount` given back (inside the caller's write transaction);
    None when nothing went back. Once per refund."""
    earlier = CreditNote.get_or_none(CreditNote.order_refund_id == refund.id)
    if earlier is not None or amount <= 0:
        return earlier
    now = now or utcnow()
    order = Order.get_by_id(refund.order_id)
    invoice = invoice_of(order)
    day, number = document_number(CREDIT_NOTES, now, PREFIX)
    return CreditNote.create(
        number=number,
        order=order.id,
        invoice=invoice,
        invoice_number=invoice.number if invoice is not None else order.number,
        order_refund_id=refund.id,
        amount=amount,
        reason=refund.note,
        issued_at=now,
        local_date=day,
    )


def credit_notes_of(order):
    return list(CreditNote.select().where(CreditNote.order == order.id).order_by(CreditNote.id))
