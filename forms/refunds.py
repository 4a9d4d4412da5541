"""The owner's refund of deposited funds to the card of one of the customer's top-ups."""

from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms import TextAreaField
from wtforms import ValidationError
from wtforms.validators import Length
from wtforms.validators import Optional

from forms.fields import clean_text
from forms.fields import IdempotencyKeyField
from forms.fields import MoneyField
from forms.fields import plain_text
from forms.fields import Required


def a_top_up_id(form, field):
    if not field.data:
        raise ValidationError("Choose the top-up whose card gets the money back.")
    if not field.data.isascii() or not field.data.isdigit() or len(field.data) > 12:
        raise ValidationError("Choose one of the listed top-ups.")


class RefundForm(FlaskForm):
    # The choices are the customer's refundable top-ups (set by the view); an id that is not
    # this customer's answers 404 in the view, so the select itself only checks the shape.
    top_up = SelectField("Top-up to refund", validators=[Required(), a_top_up_id], validate_choice=False)
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
        return int(self.top_up.data)
