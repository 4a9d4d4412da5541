"""Orders: checkout (addresses, how much of the account to use, how to pay the rest), paying and
cancelling an order, and the shop's orders list filters and order actions (refunds: forms/refunds.py)."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import DateField
from wtforms import HiddenField
from wtforms import RadioField
from wtforms import SearchField
from wtforms import SelectField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from forms.fields import as_id
from forms.fields import clean_text
from forms.fields import IdempotencyKeyField
from forms.fields import IdSelectField
from forms.fields import MoneyField
from forms.fields import plain_text
from models.orders.order import STATUS_LABELS
from models.orders.search import PERIODS


class AccountPartForm(FlaskForm):
    """How much of the account pays: funds (with their discount) and credit. Checkout and the pay page."""

    funds = MoneyField(
        lazy_gettext("Account funds to use"),
        validators=[Optional()],
        allow_zero=True,
        description=lazy_gettext("Leave empty to use as much as possible."),
    )
    use_credit = BooleanField(lazy_gettext("Pay the rest on account (store credit)"))


class CheckoutForm(AccountPartForm):
    billing_address = IdSelectField(
        lazy_gettext("Billing address"),
        validators=[InputRequired(lazy_gettext("Choose one of your addresses."))],
        message=lazy_gettext("Choose one of your addresses."),
    )
    # Not needed for a pickup: the view asks for it when the delivery chosen needs it.
    shipping_address = IdSelectField(
        lazy_gettext("Delivery address"),
        validators=[Optional()],
        message=lazy_gettext("Choose one of your addresses."),
    )
    # The delivery method (models/storefront/delivery.py), among those offered for the delivery
    # address's country; the view sets the choices and placing checks the choice again.
    delivery = RadioField(
        lazy_gettext("Delivery"),
        coerce=as_id,
        validate_choice=False,
        invalid_value_message=lazy_gettext("Choose one of the delivery methods."),
        validators=[Optional()],
    )
    delivery_seen = HiddenField()  # the offers as the page showed them, "method:price,…"
    method = RadioField(
        lazy_gettext("Pay the rest by"),
        choices=[
            SelectChoice("card", lazy_gettext("Card")),
            SelectChoice("bank", lazy_gettext("Bank transfer")),
        ],
        default="card",
        validators=[InputRequired(message=lazy_gettext("Choose how to pay the rest."))],
    )
    seen = HiddenField()
    # Required to place the order, not to recalculate: the view checks it (views/orders/checkout.py).
    accept_terms = BooleanField(lazy_gettext("I have read and accept the terms of sale"))
    # A second tab of the same checkout page finds the order it already placed, too.
    idempotency_key = IdempotencyKeyField()


class PayForm(FlaskForm):
    idempotency_key = IdempotencyKeyField()


class PayFromAccountForm(AccountPartForm):
    """Pay an unpaid order's remainder, or part of it, from account funds and credit."""

    idempotency_key = IdempotencyKeyField()


class SwitchToBankForm(FlaskForm):
    """Pay an unpaid order's remainder by bank transfer instead (idempotent: no key needed)."""


class OrderAgainForm(FlaskForm):
    """Put an order's products back in the cart."""


class CancelOrderForm(FlaskForm):
    pass


class OrderFilterForm(FlaskForm):
    """A plain GET form: its URL is the bookmark."""

    class Meta:
        csrf = False

    status = SelectField(
        lazy_gettext("Status"),
        choices=[SelectChoice("", lazy_gettext("Any status"))]
        + [SelectChoice(k, v) for k, v in STATUS_LABELS.items()],
        default="",
        validate_choice=False,
    )
    channel = SelectField(lazy_gettext("Channel"), default="", validate_choice=False)
    period = SelectField(
        lazy_gettext("Placed"),
        choices=[SelectChoice(key, label) for key, label in PERIODS.items()],
        default="all",
        validate_choice=False,
    )
    date_from = DateField(lazy_gettext("From"), validators=[Optional()])
    date_to = DateField(lazy_gettext("To"), validators=[Optional()])
    customer = SearchField(
        lazy_gettext("Customer or order"),
        validators=[Optional(), Length(max=100, message=lazy_gettext("Keep it under 100 characters."))],
        filters=[clean_text],
    )


class DispatchForm(FlaskForm):
    note = TextAreaField(
        lazy_gettext("Note for the customer"),
        description=lazy_gettext(
            "For example the carrier and tracking number. It goes into the dispatch email."
        ),
        validators=[
            Optional(),
            Length(max=300, message=lazy_gettext("Keep it under 300 characters.")),
            plain_text,
        ],
        filters=[clean_text],
    )


class ConfirmForm(FlaskForm):
    """An action that needs nothing but the click (and CSRF)."""
