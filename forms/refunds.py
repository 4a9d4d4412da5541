"""Refunds: a customer asking for their deposited money back, the owner's decision on it; the
owner's refunds of deposited funds to a top-up's card, and of a paid order in part or in full, to
funds or the way it was paid (also when the shop cancels a paid order)."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
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
        lazy_gettext("Top-up to refund"),
        validators=[InputRequired(lazy_gettext("Choose the top-up whose card gets the money back."))],
        validate_choice=False,
        message=lazy_gettext("Choose one of the listed top-ups."),
    )
    amount = MoneyField(lazy_gettext("Amount to refund"))
    note = TextAreaField(
        lazy_gettext("Note for the shop's records"),
        description=lazy_gettext("Not shown to the customer."),
        validators=[
            Optional(),
            Length(max=300, message=lazy_gettext("Keep it under 300 characters.")),
            plain_text,
        ],
        filters=[clean_text],
    )
    idempotency_key = IdempotencyKeyField(expired=lazy_gettext("This form has expired. Please try again."))

    @property
    def top_up_id(self):
        return self.top_up.data


class OrderRefundForm(FlaskForm):
    amount = MoneyField(lazy_gettext("Amount to refund"))
    destination = RadioField(
        lazy_gettext("Refund to"),
        choices=[
            SelectChoice(
                "original",
                lazy_gettext("How the customer paid (card back to the card, account back to the account)"),
            ),
            SelectChoice("funds", lazy_gettext("The customer's account funds")),
        ],
        default="original",
        validators=[InputRequired(message=lazy_gettext("Choose where the money goes back to."))],
    )
    note = TextAreaField(
        lazy_gettext("Reason (the customer sees it)"),
        validators=[
            Optional(),
            Length(max=300, message=lazy_gettext("Keep it under 300 characters.")),
            plain_text,
        ],
        filters=[clean_text],
    )
    idempotency_key = IdempotencyKeyField()


class CancelPaidForm(FlaskForm):
    destination = OrderRefundForm.destination
    note = OrderRefundForm.note
    idempotency_key = IdempotencyKeyField()


class RefundRequestForm(FlaskForm):
    amount = MoneyField(lazy_gettext("Amount to refund"))
    note = TextAreaField(
        lazy_gettext("Note for the shop"),
        validators=[
            Optional(),
            Length(max=500, message=lazy_gettext("Keep it under 500 characters.")),
            plain_text,
        ],
        filters=[clean_text],
    )


class RefundApprovalForm(FlaskForm):
    """The owner approves a refund request: how much goes back (prefilled, at most what was asked)."""

    amount = MoneyField(lazy_gettext("Amount to refund"))


class RefundDeclineForm(FlaskForm):
    reason = TextAreaField(
        lazy_gettext("Reason for declining (sent to the customer)"),
        validators=[
            DataRequired(lazy_gettext("Give the customer a reason when declining.")),
            Length(max=500, message=lazy_gettext("Keep it under 500 characters.")),
            plain_text,
        ],
        filters=[clean_text],
    )
