"""The owner's orders list filters and the order page's actions."""

from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms import RadioField
from wtforms import SearchField
from wtforms import SelectField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from forms.fields import clean_text
from forms.fields import IdempotencyKeyField
from forms.fields import MoneyField
from forms.fields import plain_text
from models.orders.order import STATUS_LABELS
from models.orders.search import PERIODS


class OrderFilterForm(FlaskForm):
    """A plain GET form: its URL is the bookmark."""

    class Meta:
        csrf = False

    status = SelectField(
        "Status",
        choices=[SelectChoice("", "Any status")] + [SelectChoice(k, v) for k, v in STATUS_LABELS.items()],
        default="",
        validate_choice=False,
    )
    channel = SelectField("Channel", default="", validate_choice=False)
    period = SelectField(
        "Placed",
        choices=[SelectChoice(key, label) for key, label in PERIODS.items()],
        default="all",
        validate_choice=False,
    )
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
    customer = SearchField(
        "Customer or order", validators=[Optional(), Length(max=100)], filters=[clean_text]
    )


class DispatchForm(FlaskForm):
    note = TextAreaField(
        "Note for the customer",
        description="For example the carrier and tracking number. It goes into the dispatch email.",
        validators=[Optional(), Length(max=300), plain_text],
        filters=[clean_text],
    )


class ConfirmForm(FlaskForm):
    """An action that needs nothing but the click (and CSRF)."""


class OrderRefundForm(FlaskForm):
    amount = MoneyField("Amount to refund")
    destination = RadioField(
        "Refund to",
        choices=[
            SelectChoice(
                "original", "How the customer paid (card back to the card, account back to the account)"
            ),
            SelectChoice("funds", "The customer's account funds"),
        ],
        default="original",
        validators=[InputRequired(message="Choose where the money goes back to.")],
    )
    note = TextAreaField(
        "Reason (the customer sees it)",
        validators=[Optional(), Length(max=300), plain_text],
        filters=[clean_text],
    )
    idempotency_key = IdempotencyKeyField()


class CancelPaidForm(FlaskForm):
    destination = OrderRefundForm.destination
    note = OrderRefundForm.note
    idempotency_key = IdempotencyKeyField()
