"""Account funds (customer side): the top-up form and the history filter."""

from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from forms.fields import IdempotencyKeyField
from forms.fields import MoneyField
from forms.fields import Required
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
