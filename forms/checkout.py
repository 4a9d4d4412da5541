"""Checkout: addresses, how much of the account to use, how to pay the rest."""

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms import RadioField
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired
from wtforms.validators import Optional

from forms.fields import IdempotencyKeyField
from forms.fields import MoneyField


class CheckoutForm(FlaskForm):
    billing_address = SelectField("Billing address", coerce=int, validators=[InputRequired()])
    shipping_address = SelectField("Delivery address", coerce=int, validators=[InputRequired()])
    funds = MoneyField(
        "Account funds to use",
        validators=[Optional()],
        allow_zero=True,
        description="Leave empty to use as much as possible.",
    )
    use_credit = BooleanField("Pay the rest on account (store credit)")
    method = RadioField(
        "Pay the rest by",
        choices=[SelectChoice("card", "Card"), SelectChoice("bank", "Bank transfer")],
        default="card",
        validators=[InputRequired(message="Choose how to pay the rest.")],
    )
    seen = HiddenField()
    # A second tab of the same checkout page finds the order it already placed, too.
    idempotency_key = IdempotencyKeyField()


class PayForm(FlaskForm):
    idempotency_key = IdempotencyKeyField()


class SwitchToBankForm(FlaskForm):
    """Pay an unpaid order's remainder by bank transfer instead (idempotent: no key needed)."""


class OrderAgainForm(FlaskForm):
    """Put an order's products back in the cart."""


class CancelForm(FlaskForm):
    pass
