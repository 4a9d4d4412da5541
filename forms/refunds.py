"""Refunds (the owner's): deposited funds back to a top-up's card, and a paid order back in part or in
full, to funds or the way it was paid (also when the shop cancels a paid order)."""

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from forms.fields import clean_text
from forms.fields import IdempotencyKeyField
from forms.fields import IdSelectField
from forms.fields import MoneyField
from forms.fields import plain_text


class TopUpRefundForm(FlaskForm):
    # The choices are the customer's refundable top-ups (set by the view); an id that is not
    # this customer's answers 404 in the view, so the select itself only checks the shape.
    top_up = IdSelectField(
        "Top-up to refund",
        validators=[InputRequired("Choose the top-up whose card gets the money back.")],
        validate_choice=False,
        message="Choose one of the listed top-ups.",
    )
    amount = MoneyField("Amount to refund")
    note = TextAreaField(
        "Note for the shop's records",
        description="Not shown to the customer.",
        validators=[Optional(), Length(max=300), plain_text],
        filters=[clean_text],
    )
    idempotency_key = IdempotencyKeyField(expired="This form has expired. Please try again.")

    @property
    def top_up_id(self):
        return self.top_up.data


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
