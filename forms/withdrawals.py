"""The withdrawal function's forms: finding an order without signing in, and the statement."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms import RadioField
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import Length

from forms.fields import clean_text
from forms.fields import email_address
from forms.fields import IdempotencyKeyField
from forms.fields import plain_text
from models.withdrawals.statements import NAME_MAX

EMAIL_FIELD = {"autocomplete": "email", "spellcheck": "false"}


class FindOrderForm(FlaskForm):
    number = StringField(
        lazy_gettext("Order number"),
        description=lazy_gettext("As in your order confirmation, like 2612-00042."),
        validators=[
            DataRequired(lazy_gettext("Enter the order number.")),
            Length(max=40, message=lazy_gettext("Enter the order number as in your confirmation.")),
            plain_text,
        ],
        filters=[clean_text],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    email = EmailField(
        lazy_gettext("Email address you ordered with"),
        validators=[DataRequired(lazy_gettext("Enter your email address.")), Length(max=254), email_address],
        render_kw=EMAIL_FIELD,
    )


class WithdrawalForm(FlaskForm):
    """The statement. The items are checkboxes `line-<id>` with quantities `quantity-<id>`, one
    per line of the order: `chosen_items` reads them (their number depends on the order)."""

    name = StringField(
        lazy_gettext("Your name"),
        validators=[
            DataRequired(lazy_gettext("Enter your name.")),
            Length(max=NAME_MAX, message=lazy_gettext("Use at most %(number)s characters.", number=NAME_MAX)),
            plain_text,
        ],
        filters=[clean_text],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        lazy_gettext("Email address"),
        description=lazy_gettext("Where we send the acknowledgement."),
        validators=[DataRequired(lazy_gettext("Enter your email address.")), Length(max=254), email_address],
        render_kw=EMAIL_FIELD,
    )
    destination = RadioField(
        lazy_gettext("Refund to"),
        choices=[
            SelectChoice("original", lazy_gettext("The way I paid")),
            SelectChoice("funds", lazy_gettext("My account funds")),
        ],
        default="original",
        validators=[DataRequired(lazy_gettext("Choose where the refund goes."))],
    )
    idempotency_key = IdempotencyKeyField()

    def chosen_items(self, formdata, choices):
        """{order line id: quantity} ticked in `formdata` among `choices` (models Choice); a
        quantity that isn't a whole number from 1 to what is left is reported on `self.items_error`."""
        self.items_error = None
        items = {}
        for choice in choices:
            if not choice.choosable or formdata.get(f"line-{choice.line.id}") != "1":
                continue
            typed = (formdata.get(f"quantity-{choice.line.id}") or str(choice.available)).strip()
            if not typed.isdigit() or not 1 <= int(typed) <= choice.available:
                self.items_error = lazy_gettext(
                    "Enter a quantity from 1 to %(number)s for %(product)s.",
                    number=choice.available,
                    product=choice.line.name,
                )
                continue
            items[choice.line.id] = int(typed)
        if not items and self.items_error is None:
            self.items_error = lazy_gettext("Tick at least one item to withdraw from.")
        return items
