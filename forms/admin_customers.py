"""The owner's and staff's customer screens (creating a customer uses forms.account.OwnerCustomerForm)."""

from flask_wtf import FlaskForm
from wtforms import TelField
from wtforms.validators import Length
from wtforms.validators import Optional

from forms.account import text
from forms.fields import clean_text


class CustomerDetailsForm(FlaskForm):
    """Name and phone, edited by the shop for a customer (messages speak to the shop, not the customer).

    The email address is not here on purpose: customers change it themselves,
    confirmed by a link to the new address, so nobody at the shop can point an
    account (and its balance) at an address the customer doesn't own.
    """

    first_name = text("First name", "Enter the first name.")
    last_name = text("Last name", "Enter the last name.")
    phone = TelField("Phone number", validators=[Optional(), Length(max=30)], filters=[clean_text])
