"""The owner's shop settings."""

import zoneinfo

import babel
from babel.numbers import list_currencies
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField
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
from forms.fields import Required
from forms.fields import WholeNumberField
from models.orders.owner_emails import DIGEST_HOUR
from models.shop.language import active_locale
from models.shop.language import country_name
from models.shop.language import LANGUAGES
from models.shop.settings import NEW_ORDER_EMAILS
from models.shop.settings import VAT_MODES

KNOWN_CURRENCIES = set(list_currencies())
TAGLINE_MAX = 120

# The shop's language and region (its locale), offered as a list: the language is the shop's
# default (pages for visitors whose browser asks for neither English nor French, emails to the
# shop's own address, messages to people without an account), the region how amounts and dates
# are written. Only the languages the shop speaks (models/shop/language.LANGUAGES); a locale saved
# before this list existed (SHOP_LOCALE, e.g. de_DE) stays offered as it is (`locale_choices`).
SHOP_LOCALES = (
    "en_GB",
    "en_IE",
    "en_US",
    "en_CA",
    "en_AU",
    "en_NZ",
    "fr_FR",
    "fr_BE",
    "fr_CH",
    "fr_LU",
    "fr_CA",
)
CHOOSE_LOCALE = lazy_gettext("Choose the shop's language and region from the list.")


def locale_label(code):
    """A locale as the list shows it: its language named in that language (as the footer's
    selector does) and its region in the page's language, with its code: "Français (Belgique) ·
    fr_BE" on a French page, "Français (Belgium) · fr_BE" on an English one. A locale of a
    language the shop doesn't speak is named wholly in the page's language."""
    try:
        locale = babel.Locale.parse(code)
    except (ValueError, babel.UnknownLocaleError):
        return code
    if locale.language in LANGUAGES and locale.territory:
        name = f"{LANGUAGES[locale.language]} ({country_name(locale.territory)})"
    else:
        name = locale.get_display_name(active_locale())
    return f"{name[:1].upper()}{name[1:]} · {code}"


def locale_choices(current=None):
    codes = list(SHOP_LOCALES)
    if current and current not in codes:
        codes.append(current)
    return [SelectChoice(code, locale_label(code)) for code in codes]


class ShopSettingsForm(FlaskForm):
    shop_name = StringField(
        lazy_gettext("Shop name"),
        validators=[DataRequired(lazy_gettext("Enter the shop's name.")), Length(max=80)],
    )
    tagline = StringField(
        lazy_gettext("Tagline"),
        description=lazy_gettext(
            "One short line under the shop's name on the home page, "
            "e.g. “Coffee roasted every Monday in Leeds”. Leave it empty for none."
        ),
        validators=[
            Optional(),
            Length(
                max=TAGLINE_MAX,
                message=lazy_gettext("Keep the tagline to %(max)s characters or fewer.", max=TAGLINE_MAX),
            ),
            plain_text,
        ],
        filters=[clean_text],
    )
    contact_email = EmailField(
        lazy_gettext("Contact email"),
        validators=[
            DataRequired(lazy_gettext("Enter an email address customers can write to.")),
            Email(lazy_gettext("Enter an email address like name@example.com."), check_deliverability=False),
            Length(max=254),
        ],
    )
    contact_phone = StringField(lazy_gettext("Contact phone"), validators=[Optional(), Length(max=40)])
    country = StringField(
        lazy_gettext("Country code"),
        description=lazy_gettext(
            "Two letters, e.g. GB. Phone numbers without a country code are read as this country's."
        ),
        validators=[DataRequired(lazy_gettext("Enter a two-letter country code.")), Length(min=2, max=2)],
    )
    locale = SelectField(
        lazy_gettext("Shop language and region"),
        description=lazy_gettext(
            "The language of pages for visitors whose browser asks for neither English nor French, "
            "and of emails to the shop's address; with the region, how amounts and dates are written. "
            "Each customer can choose their own language at the foot of every page."
        ),
        validators=[InputRequired(CHOOSE_LOCALE)],
        validate_choice=False,  # validate_locale says it in words, after reading en-GB as en_GB
    )
    timezone = StringField(
        lazy_gettext("Time zone"),
        description=lazy_gettext("Dates and dispatch times are shown in it, e.g. Europe/London."),
        validators=[
            DataRequired(lazy_gettext("Enter a time zone such as Europe/London.")),
            Length(max=60),
        ],
    )
    currency = StringField(
        lazy_gettext("Currency"),
        description=lazy_gettext("Three letters, e.g. GBP. It is locked once money has moved."),
        validators=[
            DataRequired(lazy_gettext("Enter a three-letter currency code.")),
            Length(min=3, max=3),
        ],
    )
    bank_account_name = StringField(
        lazy_gettext("Bank account holder"), validators=[Optional(), Length(max=120)]
    )
    bank_iban = StringField(lazy_gettext("IBAN or account number"), validators=[Optional(), Length(max=40)])
    bank_bic = StringField(lazy_gettext("BIC or sort code"), validators=[Optional(), Length(max=20)])
    staff_money_limit = MoneyField(
        lazy_gettext("Staff may approve money changes up to"),
        description=lazy_gettext("Larger adjustments and refunds need the owner."),
        allow_zero=True,
    )
    signup_bonus = MoneyField(
        lazy_gettext("Signup bonus"),
        description=lazy_gettext(
            "Credited once to a new customer's funds when they confirm their email. 0 turns it off."
        ),
        allow_zero=True,
    )
    topup_min = MoneyField(
        lazy_gettext("Smallest top-up"),
        description=lazy_gettext("Groups with their own limits override these."),
    )
    topup_max = MoneyField(lazy_gettext("Largest top-up"))
    default_credit_limit = MoneyField(
        lazy_gettext("Default credit limit"),
        description=lazy_gettext("For groups that allow paying on account and have no limit of their own."),
        allow_zero=True,
    )
    credit_terms_days = WholeNumberField(
        lazy_gettext("Credit terms (days)"),
        description=lazy_gettext(
            "A monthly statement is due this many days after the month's end; "
            "overdue debt pauses paying on account."
        ),
        minimum=1,
        maximum=365,
        # Whole sentences per problem: a noun glued into a shared sentence can't agree in French.
        messages={
            "missing": lazy_gettext("Enter a number of days, like 30."),
            "negative": lazy_gettext("The number of days can't be negative."),
            "not_whole": lazy_gettext("Enter the number of days as a whole number using digits, like 30."),
            "too_small": lazy_gettext("The number of days must be at least %(minimum)s."),
            "too_large": lazy_gettext("The number of days can be at most %(maximum)s."),
        },
    )
    new_order_emails = SelectField(
        lazy_gettext("Emails about new orders"),
        description=lazy_gettext(
            "Sent to the contact email above. The daily email comes each morning after "
            "%(time)s and lists the previous day's new orders.",
            time=f"{DIGEST_HOUR:02d}:00",
        ),
        choices=[SelectChoice(value, label) for value, label in NEW_ORDER_EMAILS.items()],
        validators=[
            InputRequired(lazy_gettext("Choose which emails about new orders you want.")),
            AnyOf(list(NEW_ORDER_EMAILS), lazy_gettext("Choose which emails about new orders you want.")),
        ],
        validate_choice=False,  # AnyOf says it in words
    )
    vat_mode = SelectField(
        lazy_gettext("How prices carry VAT"),
        description=lazy_gettext(
            "Prices are entered and shown VAT included. A shop under the VAT exemption threshold "
            "charges none: its pages, receipts and invoices say “VAT not applicable, art. 293 B du CGI”."
        ),
        choices=[SelectChoice(value, label) for value, label in VAT_MODES.items()],
        # Required only marks it (a select always has a choice); left out of a post, it stays as it is.
        validators=[Required(), AnyOf(list(VAT_MODES), lazy_gettext("Choose how your prices carry VAT."))],
        validate_choice=False,  # AnyOf says it in words
    )
    vat_distance_selling_under_threshold = BooleanField(
        lazy_gettext(
            "I stay under the €10,000 EU distance-selling threshold: my country's VAT applies to all EU consumers"
        ),
        description=lazy_gettext(
            "Sales to consumers in other EU countries. Above the threshold the customer's country's "
            "VAT is due, usually declared through the One-Stop-Shop, which this shop doesn't handle."
        ),
    )
    bank_details_note = TextAreaField(
        lazy_gettext("Note shown with the bank details"),
        validators=[Optional(), Length(max=500), plain_text],
        filters=[clean_text],
    )

    # The seller's legal identity on invoices and credit notes (models/orders/invoice.py copies it
    # into each one as it is issued).
    legal_name = StringField(
        lazy_gettext("Legal name"),
        description=lazy_gettext("The registered name of the business. Left empty, the shop's name is used."),
        validators=[Optional(), Length(max=120), plain_text],
        filters=[clean_text],
    )
    legal_address = TextAreaField(
        lazy_gettext("Registered address"),
        description=lazy_gettext("As on an envelope, one line per line."),
        render_kw={"rows": 4},
        validators=[Optional(), Length(max=300), plain_text],
        filters=[clean_text],
    )
    company_number = StringField(
        lazy_gettext("Company number"),
        description=lazy_gettext("SIREN or SIRET in France, the Companies House number in the UK."),
        validators=[Optional(), Length(max=60), plain_text],
        filters=[clean_text],
    )
    vat_number = StringField(
        lazy_gettext("VAT number"),
        description=lazy_gettext("Required on invoices when you charge VAT."),
        validators=[Optional(), Length(max=40), plain_text],
        filters=[clean_text],
    )
    legal_mentions = StringField(
        lazy_gettext("Other legal mentions"),
        description=lazy_gettext(
            "Optional, printed as written: legal form, share capital, register, e.g. "
            "“SAS with a share capital of €10,000, RCS Paris 123 456 789”."
        ),
        validators=[Optional(), Length(max=200), plain_text],
        filters=[clean_text],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.locale.choices = locale_choices(self.locale.object_data)

    def validate_topup_max(self, field):
        if self.topup_min.data is not None and field.data is not None and field.data < self.topup_min.data:
            raise ValidationError(lazy_gettext("The largest top-up must be at least the smallest."))

    def validate_country(self, field):
        field.data = field.data.strip().upper()
        if field.data not in babel.Locale("en").territories:
            raise ValidationError(lazy_gettext("Enter a two-letter country code such as GB or DE."))

    def validate_locale(self, field):
        """One of the offered locales (or the one the shop already has), en-GB read as en_GB."""
        field.data = (field.data or "").strip().replace("-", "_")
        if field.data not in {code for code, *_ in field.iter_choices()}:
            raise ValidationError(CHOOSE_LOCALE)

    def validate_timezone(self, field):
        field.data = field.data.strip()
        if field.data not in zoneinfo.available_timezones():
            raise ValidationError(lazy_gettext("Enter a time zone such as Europe/London."))

    def validate_currency(self, field):
        field.data = field.data.strip().upper()
        if field.data not in KNOWN_CURRENCIES:
            raise ValidationError(lazy_gettext("Enter a currency code such as GBP or EUR."))
