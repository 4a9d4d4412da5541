"""Accounts: sign-in, registration, the emailed code, My Account (profile, addresses, security) and the shop's customer screens."""

from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import EmailField
from wtforms import HiddenField
from wtforms import PasswordField
from wtforms import SelectField
from wtforms import StringField
from wtforms import TelField
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
from models.values import minor_units

NAME = 100


def text(label, message=None, max_length=NAME, required=True, **kwargs):
    validators = [DataRequired(message)] if required else [Optional()]
    validators += [
        Length(max=max_length, message=f"{label} can be at most {max_length} characters."),
        plain_text,
    ]
    return StringField(label, validators=validators, filters=[clean_text], **kwargs)


# Signing in and registering ----------------------------------------------------------


class SignInForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address."), Length(max=254), plain_text],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class EmailPasswordForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address."), Length(max=254), email_address],
        filters=[clean_text],
        render_kw={"autocomplete": "email", "spellcheck": "false", "inputmode": "email"},
    )
    password = PasswordField(
        "Create a password",
        description="At least 8 characters. A few unrelated words make a strong password.",
        validators=[InputRequired("Create a password."), new_password],
        render_kw={"autocomplete": "new-password"},
    )


class AddressFieldsMixin:
    """Street, town, postcode and country; used by registration and the address book."""

    line1 = text(
        "Address line 1", "Enter the street and house number.", render_kw={"autocomplete": "address-line1"}
    )
    line2 = text("Address line 2", required=False, render_kw={"autocomplete": "address-line2"})
    city = text("Town or city", "Enter the town or city.", render_kw={"autocomplete": "address-level2"})
    region = text("County, state or region", required=False, render_kw={"autocomplete": "address-level1"})
    postal_code = StringField(
        "Postcode",
        validators=[
            DataRequired("Enter the postcode."),
            Length(max=12, message="Postcode can be at most 12 characters."),
            Regexp(
                r"^[A-Za-z0-9][A-Za-z0-9 \-]*$",
                message="Enter the postcode using letters, digits and spaces.",
            ),
        ],
        filters=[clean_text, lambda value: value.upper() if value else value],
        render_kw={"autocomplete": "postal-code", "class": "input-short"},
    )
    country = SelectField("Country", validators=[DataRequired("Choose a country.")])

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
        "Full name", "Enter the name of the person at this address.", render_kw={"autocomplete": "name"}
    )
    company = text("Company", required=False, render_kw={"autocomplete": "organization"})
    phone = TelField("Phone for the courier", filters=[clean_text], render_kw={"autocomplete": "tel"})
    make_default_billing = BooleanField("Use as my billing address")
    make_default_shipping = BooleanField("Use as my delivery address")


class PersonalDetailsForm(FlaskForm):
    first_name = text("First name", "Enter your first name.", render_kw={"autocomplete": "given-name"})
    last_name = text("Last name", "Enter your last name.", render_kw={"autocomplete": "family-name"})
    phone = TelField(
        "Phone number",
        description="For delivery questions only.",
        validators=[DataRequired("Enter your phone number."), Length(max=30)],
        filters=[clean_text],
        render_kw={"autocomplete": "tel"},
    )
    ship_different = BooleanField("Ship to a different address")


# My Account ---------------------------------------------------------------------------


class ProfileForm(FlaskForm):
    first_name = text("First name", "Enter your first name.", render_kw={"autocomplete": "given-name"})
    last_name = text("Last name", "Enter your last name.", render_kw={"autocomplete": "family-name"})
    phone = TelField(
        "Phone number",
        validators=[Optional(), Length(max=30)],
        filters=[clean_text],
        render_kw={"autocomplete": "tel"},
    )
    payment_reminders = BooleanField("Remind me by email when an order of mine waits for payment")


class CodeForm(FlaskForm):
    code = StringField(
        "6-digit code",
        validators=[
            DataRequired("Enter the code from the email."),
            Regexp(r"^\s*\d{6}\s*$", message="Enter the 6 digits from the email."),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "class": "input-short"},
    )


class EmailOnlyForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address."), Length(max=254), email_address],
        filters=[clean_text],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        description="At least 8 characters.",
        validators=[InputRequired("Enter a new password."), new_password],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[InputRequired("Enter your current password."), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    password = PasswordField(
        "New password",
        description="At least 8 characters.",
        validators=[InputRequired("Enter a new password."), new_password],
        render_kw={"autocomplete": "new-password"},
    )


class ChangeEmailForm(FlaskForm):
    email = EmailField(
        "New email address",
        validators=[DataRequired("Enter the new email address."), Length(max=254), email_address],
        filters=[clean_text],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )
    current_password = PasswordField(
        "Current password",
        validators=[InputRequired("Enter your current password."), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class PasswordCheckForm(FlaskForm):
    password = PasswordField(
        "Password",
        validators=[InputRequired("Enter your password."), Length(max=1024)],
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
        "Email address",
        validators=[DataRequired("Enter the customer's email address."), Length(max=254), email_address],
        filters=[clean_text],
    )
    first_name = text("First name", "Enter the first name.")
    last_name = text("Last name", "Enter the last name.")
    phone = TelField("Phone number", validators=[Optional(), Length(max=30)], filters=[clean_text])


class CustomerDetailsForm(FlaskForm):
    """Name and phone, edited by the shop for a customer (messages speak to the shop, not the customer).

    The email address is not here on purpose: customers change it themselves,
    confirmed by a link to the new address, so nobody at the shop can point an
    account (and its balance) at an address the customer doesn't own.
    """

    first_name = text("First name", "Enter the first name.")
    last_name = text("Last name", "Enter the last name.")
    phone = TelField("Phone number", validators=[Optional(), Length(max=30)], filters=[clean_text])
