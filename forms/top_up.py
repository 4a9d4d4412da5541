"""Account funds (customer side): the top-up form and the history filter."""

import secrets

from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms import HiddenField
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.validators import Regexp

from forms.fields import MoneyField
from models.funds.history import CATEGORY_LABELS


def new_key():
    return secrets.token_urlsafe(18)


class Required:
    """Marks a field required (the label, the `required` attribute); MoneyField itself refuses empty input."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        pass


class TopUpForm(FlaskForm):
    amount = MoneyField("Other amount", validators=[Required()])
    # One key per rendered form: a double click, a reload or a retry of this
    # form finds the top-up it already started instead of charging again.
    idempotency_key = HiddenField(
        default=new_key,
        validators=[Regexp(r"^[A-Za-z0-9_-]{16,64}$", message="This form has expired. Please try again.")],
    )


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
