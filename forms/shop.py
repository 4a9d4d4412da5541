"""The owner's shop settings."""

import zoneinfo

import babel
from babel.numbers import list_currencies
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms import SelectField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms import ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf
from wtforms.validators import DataRequired
from wtforms.validators import Email
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from forms.fields import clean_text
from forms.fields import MoneyField
from forms.fields import plain_text
from forms.fields import WholeNumberField
from models.orders.owner_emails import DIGEST_HOUR
from models.shop.settings import NEW_ORDER_EMAILS

KNOWN_CURRENCIES = set(list_currencies())
TAGLINE_MAX = 120


class ShopSettingsForm(FlaskForm):
    shop_name = StringField("Shop name", validators=[DataRequired("Enter the shop's name."), Length(max=80)])
    tagline = StringField(
        "Tagline",
        description="One short line under the shop's name on the home page, "
        "e.g. “Coffee roasted every Monday in Leeds”. Leave it empty for none.",
        validators=[
            Optional(),
            Length(max=TAGLINE_MAX, message=f"Keep the tagline to {TAGLINE_MAX} characters or fewer."),
            plain_text,
        ],
        filters=[clean_text],
    )
    contact_email = EmailField(
        "Contact email",
        validators=[
            DataRequired("Enter an email address customers can write to."),
            Email("Enter an email address like name@example.com.", check_deliverability=False),
            Length(max=254),
        ],
    )
    contact_phone = StringField("Contact phone", validators=[Optional(), Length(max=40)])
    country = StringField(
        "Country code",
        description="Two letters, e.g. GB. Phone numbers without a country code are read as this country's.",
        validators=[DataRequired("Enter a two-letter country code."), Length(min=2, max=2)],
    )
    locale = StringField(
        "Language and region",
        description="How money and dates are written, e.g. en_GB.",
        validators=[DataRequired("Enter a locale such as en_GB."), Length(max=20)],
    )
    timezone = StringField(
        "Time zone",
        description="Dates and dispatch times are shown in it, e.g. Europe/London.",
        validators=[DataRequired("Enter a time zone such as Europe/London."), Length(max=60)],
    )
    currency = StringField(
        "Currency",
        description="Three letters, e.g. GBP. It is locked once money has moved.",
        validators=[DataRequired("Enter a three-letter currency code."), Length(min=3, max=3)],
    )
    bank_account_name = StringField("Bank account holder", validators=[Optional(), Length(max=120)])
    bank_iban = StringField("IBAN or account number", validators=[Optional(), Length(max=40)])
    bank_bic = StringField("BIC or sort code", validators=[Optional(), Length(max=20)])
    staff_money_limit = MoneyField(
        "Staff may approve money changes up to",
        description="Larger adjustments and refunds need the owner.",
        allow_zero=True,
    )
    signup_bonus = MoneyField(
        "Signup bonus",
        description="Credited once to a new customer's funds when they confirm their email. 0 turns it off.",
        allow_zero=True,
    )
    topup_min = MoneyField("Smallest top-up", description="Groups with their own limits override these.")
    topup_max = MoneyField("Largest top-up")
    default_credit_limit = MoneyField(
        "Default credit limit",
        description="For groups that allow paying on account and have no limit of their own.",
        allow_zero=True,
    )
    credit_terms_days = WholeNumberField(
        "Credit terms (days)",
        description="A monthly statement is due this many days after the month's end; "
        "overdue debt pauses paying on account.",
        minimum=1,
        maximum=365,
        noun="number of days",
        missing="Enter a number of days, like 30.",
    )
    new_order_emails = SelectField(
        "Emails about new orders",
        description=f"Sent to the contact email above. The daily email comes each morning after "
        f"{DIGEST_HOUR:02d}:00 and lists the previous day's new orders.",
        choices=[SelectChoice(value, label) for value, label in NEW_ORDER_EMAILS.items()],
        validators=[
            InputRequired("Choose which emails about new orders you want."),
            AnyOf(list(NEW_ORDER_EMAILS), "Choose which emails about new orders you want."),
        ],
        validate_choice=False,  # AnyOf says it in words
    )
    bank_details_note = TextAreaField(
        "Note shown with the bank details",
        validators=[Optional(), Length(max=500), plain_text],
        filters=[clean_text],
    )

    def validate_topup_max(self, field):
        if self.topup_min.data is not None and field.data is not None and field.data < self.topup_min.data:
            raise ValidationError("The largest top-up must be at least the smallest.")

    def validate_country(self, field):
        field.data = field.data.strip().upper()
        if field.data not in babel.Locale("en").territories:
            raise ValidationError("Enter a two-letter country code such as GB or DE.")

    def validate_locale(self, field):
        try:
            babel.Locale.parse(field.data.strip().replace("-", "_"))
        except (ValueError, babel.UnknownLocaleError):
            raise ValidationError("Enter a locale such as en_GB or de_DE.") from None
        field.data = field.data.strip().replace("-", "_")

    def validate_timezone(self, field):
        field.data = field.data.strip()
        if field.data not in zoneinfo.available_timezones():
            raise ValidationError("Enter a time zone such as Europe/London.")

    def validate_currency(self, field):
        field.data = field.data.strip().upper()
        if field.data not in KNOWN_CURRENCIES:
            raise ValidationError("Enter a currency code such as GBP or EUR.")
