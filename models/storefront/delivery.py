"""Delivery methods: how an order reaches the customer, and what that costs.

The owner defines them (Admin → Delivery): a name, a price, free from a goods value, the
countries served (none listed: every country), an estimate shown to the customer ("2–4 working
days"), and whether it is a pickup at the shop (no delivery address needed). An order keeps a
copy of the method it was placed with (Order.delivery_*), so later changes never rewrite it.
"""

from peewee import BooleanField
from peewee import CharField
from peewee import DateTimeField
from peewee import IntegerField

from models.base import BaseModel
from models.base import utcnow


class DeliveryMethod(BaseModel):
    name = CharField()
    price = IntegerField(default=0)  # minor units
    free_above = IntegerField(null=True)  # goods value from which it costs nothing; None: never free
    countries = CharField(default="")  # ISO codes separated by spaces; "" = every country
    estimate = CharField(default="")  # "2–4 working days", shown as written
    pickup = BooleanField(default=False)
    active = BooleanField(default=True, index=True)
    position = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "delivery_method"
