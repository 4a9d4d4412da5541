"""Accounts: sign-in, registration, the emailed code, My Account (profile, addresses, security) and the shop's customer screens."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import EmailField
from wtforms import HiddenField
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import StringField
from wtforms import TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import Regexp

from forms.fields import clean_text
from forms.fields import country_choices
from forms.fields import email_address
from forms.fields import new_password
from forms.fields import plain_text
from models.shop.language import LANGUAGES
from models.values import minor_units

NAME = 100


def language_field():
    """The language of the account's pages and emails: one of the shop's languages, each written
    in itself ("Français"), so anyone finds their own whatever language the page is in."""
    return SelectField(
        lazy_gettext("Language for emails and pages"),
        choices=[SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGES.items()],
        validators=[DataRequired(lazy_gettext("Choose a language."))],
    )


def text(label, message=None, max_length=NAME, required=True, **kwargs):
    validators = [DataRequired(message)] if required else [Optional()]
    validators += [
        Length(
            max=max_length,
            message=lazy_gettext(
                "%(label)s can be at most %(count)s characters.", label=label, count=max_length
            ),
        ),
        plain_text,
    ]
    return StringField(label, validators=validators, filters=[clean_text], **kwargs)


# Signing in and registering ----------------------------------------------------------


class SignInForm(FlaskForm):
    email = EmailField(
        lazy_gettext("Email address"),
        validators=[DataRequired(lazy_gettext("Enter your email address.")), Length(max=254), plain_text],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        lazy_gettext("Password"),
        validators=[DataRequired(lazy_gettext("Enter your password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class EmailPasswordForm(FlaskForm):
    email = EmailField(
        lazy_gettext("Email address"),
        validators=[DataRequired(lazy_gettext("Enter your email address.")), Length(max=254), email_address],
        filters=[clean_text],
        render_kw={"autocomplete": "email", "spellcheck": "false", "inputmode": "email"},
    )
    password = PasswordField(
        lazy_gettext("Create a password"),
        description=lazy_gettext("At least 8 characters. A few unrelated words make a strong password."),
        validators=[InputRequired(lazy_gettext("Create a password.")), new_password],
        render_kw={"autocomplete": "new-password"},
    )
    language = language_field()


class AddressFieldsMixin:
    """Street, town, postcode and country; used by registration and the address book."""

    line1 = text(
        lazy_gettext("Address line 1"),
        lazy_gettext("Enter the street and house number."),
        render_kw={"autocomplete": "address-line1"},
    )
    line2 = text(lazy_gettext("Address line 2"), required=False, render_kw={"autocomplete": "address-line2"})
    city = text(
        lazy_gettext("Town or city"),
        lazy_gettext("Enter the town or city."),
        render_kw={"autocomplete": "address-level2"},
    )
    region = text(
        lazy_gettext("County, state or region"), required=False, render_kw={"autocomplete": "address-level1"}
    )
    postal_code = StringField(
        lazy_gettext("Postcode"),
        validators=[
            DataRequired(lazy_gettext("Enter the postcode.")),
            Length(max=12, message=lazy_gettext("Postcode can be at most 12 characters.")),
            Regexp(
                r"^[A-Za-z0-9][A-Za-z0-9 \-]*$",
                message=lazy_gettext("Enter the postcode using letters, digits and spaces."),
            ),
        ],
        filters=[clean_text, lambda value: value.upper() if value else value],
        render_kw={"autocomplete": "postal-code", "class": "input-short"},
    )
    country = SelectField(
        lazy_gettext("Country"), validators=[DataRequired(lazy_gettext("Choose a country."))]
    )

    def set_countries(self, locale, default_country):
        self.country.choices = country_choices(locale)
        if not self.country.data:
            self.country.data = default_country


def address_form(prefix, locale, default_country, with_recipient=False, formdata=None, **kwargs):
    """A FlaskForm for one address; `prefix` keeps billing and shipping fields apart."""
    form_class = AddressBookForm if with_recipient else RegistrationAddressForm
    form = form_class(prefix=prefix, meta={"csrf": False}, formdata=formdata, **kwargs)
    form.set_countries(locale, default_country)
    return form


class RegistrationAddressForm(AddressFieldsMixin, FlaskForm):
    pass


class AddressBookForm(AddressFieldsMixin, FlaskForm):
    full_name = text(
        lazy_gettext("Full name"),
        lazy_gettext("Enter the name of the person at this address."),
        render_kw={"autocomplete": "name"},
    )
    company = text(lazy_gettext("Company"), required=False, render_kw={"autocomplete": "organization"})
    phone = TelField(
        lazy_gettext("Phone for the courier"), filters=[clean_text], render_kw={"autocomplete": "tel"}
    )
    make_default_billing = BooleanField(lazy_gettext("Use as my billing address"))
    make_default_shipping = BooleanField(lazy_gettext("Use as my delivery address"))


class PersonalDetailsForm(FlaskForm):
    first_name = text(
        lazy_gettext("First name"),
        lazy_gettext("Enter your first name."),
        render_kw={"autocomplete": "given-name"},
    )
    last_name = text(
        lazy_gettext("Last name"),
        lazy_gettext("Enter your last name."),
        render_kw={"autocomplete": "family-name"},
    )
    phone = TelField(
        lazy_gettext("Phone number"),
        description=lazy_gettext("For delivery questions only."),
        validators=[DataRequired(lazy_gettext("Enter your phone number.")), Length(max=30)],
        filters=[clean_text],
        render_kw={"autocomplete": "tel"},
    )
    ship_different = BooleanField(lazy_gettext("Ship to a different address"))


# My Account ---------------------------------------------------------------------------


class ProfileForm(FlaskForm):
    first_name = text(
        lazy_gettext("First name"),
        lazy_gettext("Enter your first name."),
        render_kw={"autocomplete": "given-name"},
    )
    last_name = text(
        lazy_gettext("Last name"),
        lazy_gettext("Enter your last name."),
        render_kw={"autocomplete": "family-name"},
    )
    phone = TelField(
        lazy_gettext("Phone number"),
        validators=[Optional(), Length(max=30)],
        filters=[clean_text],
        render_kw={"autocomplete": "tel"},
    )
    language = language_field()
    payment_reminders = BooleanField(
        lazy_gettext("Remind me by email when an order of mine waits for payment")
    )


class CodeForm(FlaskForm):
    code = StringField(
        lazy_gettext("6-digit code"),
        validators=[
            DataRequired(lazy_gettext("Enter the code from the email.")),
            Regexp(r"^\s*\d{6}\s*$", message=lazy_gettext("Enter the 6 digits from the email.")),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "class": "input-short"},
    )


class EmailOnlyForm(FlaskForm):
    email = EmailField(
        lazy_gettext("Email address"),
        validators=[DataRequired(lazy_gettext("Enter your email address.")), Length(max=254), email_address],
        filters=[clean_text],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        lazy_gettext("New password"),
        description=lazy_gettext("At least 8 characters."),
        validators=[InputRequired(lazy_gettext("Enter a new password.")), new_password],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        lazy_gettext("Current password"),
        validators=[InputRequired(lazy_gettext("Enter your current password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    password = PasswordField(
        lazy_gettext("New password"),
        description=lazy_gettext("At least 8 characters."),
        validators=[InputRequired(lazy_gettext("Enter a new password.")), new_password],
        render_kw={"autocomplete": "new-password"},
    )


class ChangeEmailForm(FlaskForm):
    email = EmailField(
        lazy_gettext("New email address"),
        validators=[
            DataRequired(lazy_gettext("Enter the new email address.")),
            Length(max=254),
            email_address,
        ],
        filters=[clean_text],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )
    current_password = PasswordField(
        lazy_gettext("Current password"),
        validators=[InputRequired(lazy_gettext("Enter your current password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordCheckForm(FlaskForm):
    password = PasswordField(
        lazy_gettext("Password"),
        validators=[InputRequired(lazy_gettext("Enter your password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class DeleteAccountForm(PasswordCheckForm):
    # The bonus the page said deleting gives up (minor units): deleting gives up exactly that or
    # asks again (models/accounts/profile.py).
    bonus_given_up = HiddenField(default="0")

    @property
    def bonus_told(self):
        told = minor_units(self.bonus_given_up.data or "", 0)
        return -1 if told is None else told


# The shop's customer screens (staff and owner) ----------------------------------------


class NewCustomerForm(FlaskForm):
    email = EmailField(
        lazy_gettext("Email address"),
        validators=[
            DataRequired(lazy_gettext("Enter the customer's email address.")),
            Length(max=254),
            email_address,
        ],
        filters=[clean_text],
    )
    first_name = text(lazy_gettext("First name"), lazy_gettext("Enter the first name."))
    last_name = text(lazy_gettext("Last name"), lazy_gettext("Enter the last name."))
    phone = TelField(
        lazy_gettext("Phone number"), validators=[Optional(), Length(max=30)], filters=[clean_text]
    )


class CustomerDetailsForm(FlaskForm):
    """Name and phone, edited by the shop for a customer (messages speak to the shop, not the customer).

    The email address is not here on purpose: customers change it themselves,
    confirmed by a link to the new address, so nobody at the shop can point an
    account (and its balance) at an address the customer doesn't own.
    """

    first_name = text(lazy_gettext("First name"), lazy_gettext("Enter the first name."))
    last_name = text(lazy_gettext("Last name"), lazy_gettext("Enter the last name."))
    phone = TelField(
        lazy_gettext("Phone number"), validators=[Optional(), Length(max=30)], filters=[clean_text]
    )
