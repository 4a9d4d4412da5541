"""Account funds and credit: top-ups and the history filter, credit requests and repayments (customers);
credit decisions, bank payments and balance adjustments (the shop). Refunds: forms/refunds.py."""

from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms import HiddenField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from forms.fields import clean_text
from forms.fields import IdempotencyKeyField
from forms.fields import MoneyField
from forms.fields import new_key
from forms.fields import plain_text
from forms.fields import Required
from models.funds.adjustments import REASONS
from models.funds.history import CATEGORY_LABELS


class TopUpForm(FlaskForm):
    amount = MoneyField("Other amount", validators=[Required()])
    idempotency_key = IdempotencyKeyField(expired="This form has expired. Please try again.")


class HistoryFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    category = SelectField(
        "Category",
        choices=[SelectChoice("", "All movements")]
        + [SelectChoice(value, label) for value, label in CATEGORY_LABELS.items()],
        default="",
        validate_choice=True,
    )
    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])

    def filters(self):
        """(category, since, until) as far as they are valid; an invalid part is ignored."""
        self.validate()
        return (
            self.category.data if not self.category.errors else "",
            self.since.data if not self.since.errors else None,
            self.until.data if not self.until.errors else None,
        )


class CreditRequestForm(FlaskForm):
    amount = MoneyField("Credit limit you would like")
    reason = TextAreaField(
        "Why you need it",
        validators=[
            DataRequired("Tell the shop briefly why."),
            Length(max=500, message="Keep it under 500 characters."),
            plain_text,
        ],
        filters=[clean_text],
    )


class RepaymentForm(FlaskForm):
    amount = MoneyField("Amount to pay back")
    method = RadioField(
        "How you'll pay",
        choices=[
            SelectChoice("card", "By card, now (on our payment provider's page)"),
            SelectChoice("bank", "By bank transfer (we'll show our bank details)"),
        ],
        default="card",
        validators=[DataRequired("Choose how you'll pay.")],
    )
    idempotency_key = IdempotencyKeyField(expired="This form has expired. Please try again.")


class BankPaymentForm(FlaskForm):
    """The owner records a bank transfer that paid back a customer's debt."""

    idempotency_key = IdempotencyKeyField()
    amount = MoneyField("Amount received")
    reference = StringField(
        "Bank reference",
        description="As it appears on the bank statement.",
        validators=[DataRequired("Enter the transfer's reference."), Length(max=80), plain_text],
        filters=[clean_text],
    )


class CreditDecisionForm(FlaskForm):
    amount = MoneyField("Limit to grant", allow_zero=True, validators=[Optional()])
    note = TextAreaField(
        "Note to the customer", validators=[Optional(), Length(max=500), plain_text], filters=[clean_text]
    )


class AdjustmentForm(FlaskForm):
    # Not checked like IdempotencyKeyField: a missing key is a new adjustment (see the view).
    idempotency_key = HiddenField(default=new_key)
    direction = RadioField(
        "Direction",
        choices=[SelectChoice("up", "Add to the balance"), SelectChoice("down", "Take from the balance")],
        default="up",
    )
    amount = MoneyField("Amount")
    reason_code = SelectField(
        "Reason",
        choices=[
            SelectChoice("", "Choose a reason"),
            *(SelectChoice(code, label) for code, label in REASONS.items()),
        ],
        validators=[DataRequired("Choose a reason.")],
    )
    note = TextAreaField(
        "Note for the ledger", validators=[Optional(), Length(max=300), plain_text], filters=[clean_text]
    )
    message = TextAreaField(
        "Message to the customer",
        description="Sent by email. Leave it empty to send nothing.",
        validators=[Optional(), Length(max=1000), plain_text],
        filters=[clean_text],
    )

    @property
    def signed_amount(self):
        return self.amount.data if self.direction.data == "up" else -self.amount.data
