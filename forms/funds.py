"""Account funds and credit: top-ups and the history filter, credit requests and repayments (customers);
credit decisions, bank payments and balance adjustments (the shop). Refunds: forms/refunds.py."""

from flask_babel import lazy_gettext
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
    amount = MoneyField(lazy_gettext("Other amount"), validators=[Required()])
    idempotency_key = IdempotencyKeyField(expired=lazy_gettext("This form has expired. Please try again."))


class HistoryFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    category = SelectField(
        lazy_gettext("Category"),
        choices=[SelectChoice("", lazy_gettext("All movements"))]
        + [SelectChoice(value, label) for value, label in CATEGORY_LABELS.items()],
        default="",
        validate_choice=True,
    )
    since = DateField(lazy_gettext("From"), validators=[Optional()])
    until = DateField(lazy_gettext("To"), validators=[Optional()])

    def filters(self):
        """(category, since, until) as far as they are valid; an invalid part is ignored."""
        self.validate()
        return (
            self.category.data if not self.category.errors else "",
            self.since.data if not self.since.errors else None,
            self.until.data if not self.until.errors else None,
        )


class CreditRequestForm(FlaskForm):
    amount = MoneyField(lazy_gettext("Credit limit you would like"))
    reason = TextAreaField(
        lazy_gettext("Why you need it"),
        validators=[
            DataRequired(lazy_gettext("Tell the shop briefly why.")),
            Length(max=500, message=lazy_gettext("Keep it under 500 characters.")),
            plain_text,
        ],
        filters=[clean_text],
    )


class RepaymentForm(FlaskForm):
    amount = MoneyField(lazy_gettext("Amount to pay back"))
    method = RadioField(
        lazy_gettext("How you'll pay"),
        choices=[
            SelectChoice("card", lazy_gettext("By card, now (on our payment provider's page)")),
            SelectChoice("bank", lazy_gettext("By bank transfer (we'll show our bank details)")),
        ],
        default="card",
        validators=[DataRequired(lazy_gettext("Choose how you'll pay."))],
    )
    idempotency_key = IdempotencyKeyField(expired=lazy_gettext("This form has expired. Please try again."))


class BankPaymentForm(FlaskForm):
    """The owner records a bank transfer that paid back a customer's debt."""

    idempotency_key = IdempotencyKeyField()
    amount = MoneyField(lazy_gettext("Amount received"))
    reference = StringField(
        lazy_gettext("Bank reference"),
        description=lazy_gettext("As it appears on the bank statement."),
        validators=[
            DataRequired(lazy_gettext("Enter the transfer's reference.")),
            Length(max=80),
            plain_text,
        ],
        filters=[clean_text],
    )


class CreditDecisionForm(FlaskForm):
    amount = MoneyField(lazy_gettext("Limit to grant"), allow_zero=True, validators=[Optional()])
    note = TextAreaField(
        lazy_gettext("Note to the customer"),
        validators=[Optional(), Length(max=500), plain_text],
        filters=[clean_text],
    )


class AdjustmentForm(FlaskForm):
    # Not checked like IdempotencyKeyField: a missing key is a new adjustment (see the view).
    idempotency_key = HiddenField(default=new_key)
    direction = RadioField(
        lazy_gettext("Direction"),
        choices=[
            SelectChoice("up", lazy_gettext("Add to the balance")),
            SelectChoice("down", lazy_gettext("Take from the balance")),
        ],
        default="up",
    )
    amount = MoneyField(lazy_gettext("Amount"))
    reason_code = SelectField(
        lazy_gettext("Reason"),
        choices=[
            SelectChoice("", lazy_gettext("Choose a reason")),
            *(SelectChoice(code, label) for code, label in REASONS.items()),
        ],
        validators=[DataRequired(lazy_gettext("Choose a reason."))],
    )
    note = TextAreaField(
        lazy_gettext("Note for the ledger"),
        validators=[Optional(), Length(max=300), plain_text],
        filters=[clean_text],
    )
    message = TextAreaField(
        lazy_gettext("Message to the customer"),
        description=lazy_gettext("Sent by email. Leave it empty to send nothing."),
        validators=[Optional(), Length(max=1000), plain_text],
        filters=[clean_text],
    )

    @property
    def signed_amount(self):
        return self.amount.data if self.direction.data == "up" else -self.amount.data
