"""Group applications (customers), the owner's decisions on them, and group settings and retirement (the owner)."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms import ValidationError
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from forms.fields import clean_text
from forms.fields import IdField
from forms.fields import IdSelectField
from forms.fields import MoneyField
from forms.fields import PercentField
from forms.fields import plain_text

MAX_FUNDS_DISCOUNT_BP = 5000


def at_most_half(form, field):
    """Above 50 % the first cents of an order would cost nothing at all: goods given away."""
    if field.data is not None and field.data > MAX_FUNDS_DISCOUNT_BP:
        raise ValidationError(lazy_gettext("A funds discount can be at most 50 %."))


class GroupApplicationForm(FlaskForm):
    group_id = IdField(
        validators=[InputRequired(lazy_gettext("Choose a group to apply for."))],
        message=lazy_gettext("Choose one of the groups listed."),
    )
    note = TextAreaField(
        lazy_gettext("A short note for the shop"),
        description=lazy_gettext("Why you'd like to join, in a sentence or two (optional)."),
        validators=[
            Optional(),
            Length(max=500, message=lazy_gettext("Keep the note under 500 characters.")),
            plain_text,
        ],
        filters=[clean_text],
    )


class ApplicationDecisionForm(FlaskForm):
    reason = TextAreaField(
        lazy_gettext("Reason (sent to the customer when you reject)"),
        validators=[
            Optional(),
            Length(max=500, message=lazy_gettext("Keep the reason under 500 characters.")),
            plain_text,
        ],
        filters=[clean_text],
    )


class GroupForm(FlaskForm):
    name = StringField(
        lazy_gettext("Name"),
        validators=[
            DataRequired(lazy_gettext("Give the group a name.")),
            Length(max=40, message=lazy_gettext("Use at most 40 characters.")),
            plain_text,
        ],
        filters=[clean_text],
    )
    perks = TextAreaField(
        lazy_gettext("Perks shown to customers"),
        description=lazy_gettext(
            "In your own words. The discount, bonus and reward set below are listed under it "
            "for customers, with their amounts in the shop's currency, so you needn't repeat them."
        ),
        validators=[
            Optional(),
            Length(max=500, message=lazy_gettext("Keep the perks under 500 characters.")),
            plain_text,
        ],
        filters=[clean_text],
    )
    open_to_applications = BooleanField(lazy_gettext("Customers may apply to join"))
    grants_referral_link = BooleanField(lazy_gettext("Members get a referral link (affiliates)"))
    is_default = BooleanField(lazy_gettext("New customers join this group"))
    own_limits = BooleanField(lazy_gettext("This group has its own limits (instead of the shop's defaults)"))
    topup_min = MoneyField(lazy_gettext("Smallest top-up"), default=1000)
    topup_max = MoneyField(lazy_gettext("Largest top-up"), default=100000)
    funds_discount_bp = PercentField(
        lazy_gettext("Discount when paying with account funds"),
        default=0,
        validators=[at_most_half],
        description=lazy_gettext("Applies to the part of an order paid from a positive balance; at most 50."),
    )
    pay_on_account = BooleanField(lazy_gettext("May pay on account (store credit)"))
    default_credit_limit = MoneyField(lazy_gettext("Default credit limit"), default=0, allow_zero=True)
    bonus_threshold = MoneyField(
        lazy_gettext("Top-up bonus: from a top-up of"),
        default=0,
        allow_zero=True,
        description=lazy_gettext("0 means no bonus."),
    )
    bonus_amount = MoneyField(lazy_gettext("…the customer gets a bonus of"), default=0, allow_zero=True)
    affiliate_reward = MoneyField(
        lazy_gettext("Affiliate reward per referred first order"), default=0, allow_zero=True
    )
    reminders_enabled = BooleanField(lazy_gettext("Send payment reminders to members"))

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if valid and self.topup_min.data > self.topup_max.data:
            self.topup_max.errors.append(lazy_gettext("The largest top-up must be at least the smallest."))
            valid = False
        if valid and (self.bonus_threshold.data == 0) != (self.bonus_amount.data == 0):
            self.bonus_amount.errors.append(
                lazy_gettext("Set both the top-up and the bonus, or leave both at 0.")
            )
            valid = False
        return valid


class RetireGroupForm(FlaskForm):
    move_to = IdSelectField(
        lazy_gettext("Move its members to"), message=lazy_gettext("Choose one of the groups listed.")
    )


class CustomerGroupForm(FlaskForm):
    """The owner putting a customer into a group (admin/customers): the group, a note for the
    records, and the group the owner saw them in (so a change made meanwhile is not overwritten)."""

    group_id = IdSelectField(
        lazy_gettext("New group"),
        validators=[InputRequired(lazy_gettext("Choose one of the groups listed."))],
        message=lazy_gettext("Choose one of the groups listed."),
    )
    note = TextAreaField(
        lazy_gettext("Note for the shop's records"),
        description=lazy_gettext(
            "Why, in a sentence. The customer doesn't see it; it's kept in the audit list."
        ),
        validators=[
            Optional(),
            Length(max=500, message=lazy_gettext("Keep the note under 500 characters.")),
            plain_text,
        ],
        filters=[clean_text],
    )
    from_group_id = IdField()
