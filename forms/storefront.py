"""The storefront: the cart's quantities, and the catalogue's products and categories (staff and owner)."""

import re

from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms import RadioField
from wtforms import SelectField
from wtforms import SelectMultipleField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms import ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from forms.fields import clean_text
from forms.fields import IdSelectField
from forms.fields import MoneyField
from forms.fields import plain_text
from forms.fields import WholeNumberField
from models.storefront.cart import MAX_QUANTITY
from models.storefront.catalog import NAME_MAX
from models.storefront.catalog import SLUG_MAX
from models.storefront.catalog import STOCK_MAX
from models.storefront.delivery import DETAILS_MAX
from models.storefront.delivery import ESTIMATE_MAX
from models.storefront.delivery import MAX_DAYS
from models.storefront.delivery import NAME_MAX as DELIVERY_NAME_MAX
from models.storefront.pictures import valid_key

QUANTITY_MESSAGES = {
    "missing": lazy_gettext("Enter a quantity, like 2."),
    "negative": lazy_gettext("The quantity can't be negative."),
    "not_whole": lazy_gettext("Enter the quantity as a whole number using digits, like 2."),
    "too_small": lazy_gettext("The quantity must be at least %(minimum)s."),
    "too_large": lazy_gettext("The quantity can be at most %(maximum)s."),
}


class AddToCartForm(FlaskForm):
    quantity = WholeNumberField(
        lazy_gettext("Quantity"), minimum=1, maximum=MAX_QUANTITY, messages=QUANTITY_MESSAGES, default=1
    )


class DeliveryCountryForm(FlaskForm):
    """The country the cart estimates delivery to (the view sets the choices: the shop's list)."""

    country = SelectField(
        lazy_gettext("Deliver to"), validators=[InputRequired(lazy_gettext("Choose a country."))]
    )


class QuantityForm(FlaskForm):
    """A line's quantity; 0 takes the product out of the cart."""

    quantity = WholeNumberField(
        lazy_gettext("Quantity"), minimum=0, maximum=MAX_QUANTITY, messages=QUANTITY_MESSAGES
    )


SLUG_HINT = lazy_gettext("The end of the page's web address. Leave it empty to make one from the name.")


def slug_field():
    return StringField(
        lazy_gettext("Web address"),
        description=SLUG_HINT,
        validators=[
            Optional(),
            Length(max=SLUG_MAX, message=lazy_gettext("Use at most %(number)s characters.", number=SLUG_MAX)),
        ],
        filters=[lambda value: clean_text(value).lower() if value else value],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


def check_slug(form, field):
    if field.data and not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", field.data):
        raise ValidationError(gettext("Use lowercase letters, digits and single hyphens, like green-tea."))


class CategoryForm(FlaskForm):
    name = StringField(
        lazy_gettext("Name"),
        validators=[
            DataRequired(lazy_gettext("Give the category a name.")),
            Length(max=60, message=lazy_gettext("Use at most %(number)s characters.", number=60)),
            plain_text,
        ],
        filters=[clean_text],
    )
    description = TextAreaField(
        lazy_gettext("Description"),
        description=lazy_gettext("A sentence or two shown at the top of the category's page."),
        validators=[
            Optional(),
            Length(max=1000, message=lazy_gettext("Keep it under 1,000 characters.")),
            plain_text,
        ],
        filters=[clean_text],
    )
    position = WholeNumberField(
        lazy_gettext("Position"),
        description=lazy_gettext("Smaller numbers come first on the shop's pages."),
        validators=[Optional()],
        maximum=100_000,
        messages={
            "negative": lazy_gettext("The position can't be negative."),
            "not_whole": lazy_gettext("Enter the position as a whole number using digits, like 2."),
            "too_large": lazy_gettext("The position can be at most %(maximum)s."),
        },
    )
    slug = slug_field()

    def validate_slug(self, field):
        check_slug(self, field)


class ProductForm(FlaskForm):
    name = StringField(
        lazy_gettext("Name"),
        validators=[
            DataRequired(lazy_gettext("Give the product a name.")),
            Length(max=NAME_MAX, message=lazy_gettext("Use at most %(number)s characters.", number=NAME_MAX)),
            plain_text,
        ],
        filters=[clean_text],
    )
    category_id = IdSelectField(
        lazy_gettext("Category"),
        validators=[InputRequired(lazy_gettext("Choose a category."))],
        message=lazy_gettext("Choose a category."),
    )
    description = TextAreaField(
        lazy_gettext("Description"),
        description=lazy_gettext(
            "What it is, what it's made of, sizes: what a customer would ask in the shop."
        ),
        validators=[
            Optional(),
            Length(max=5000, message=lazy_gettext("Keep it under 5,000 characters.")),
            plain_text,
        ],
        filters=[clean_text],
        render_kw={"rows": 6},
    )
    price = MoneyField(lazy_gettext("Price"))
    stock = WholeNumberField(
        lazy_gettext("In stock"),
        maximum=STOCK_MAX,
        messages={
            "missing": lazy_gettext("Enter how many are in stock, like 12."),
            "negative": lazy_gettext("The stock can't be negative."),
            "not_whole": lazy_gettext("Enter the stock as a whole number using digits, like 2."),
            "too_large": lazy_gettext("The stock can be at most %(maximum)s."),
        },
    )
    active = BooleanField(lazy_gettext("Show in the shop"), default=True)
    withdrawal_exclusion = SelectField(
        lazy_gettext("Right of withdrawal (14 days)"),
        choices=[
            SelectChoice("", lazy_gettext("Applies")),
            SelectChoice("made_to_order", lazy_gettext("Excluded: made to the customer's specifications")),
            SelectChoice("perishable", lazy_gettext("Excluded: perishable")),
        ],
        default="",
    )
    image = FileField(
        lazy_gettext("Picture file"),
        description=lazy_gettext("A JPEG, PNG or WebP of up to 2 MB. Square or 4:3 pictures look best."),
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )
    # A picture uploaded with a form that then needed corrections is kept, so it isn't chosen twice.
    pending_image = HiddenField()
    remove_image = BooleanField(lazy_gettext("Remove the picture (show the placeholder)"))
    slug = slug_field()

    def validate_slug(self, field):
        check_slug(self, field)

    def validate_pending_image(self, field):
        if field.data and not valid_key(field.data):
            field.data = ""


class DeliveryMethodForm(FlaskForm):
    """A delivery method (Admin → Delivery, the owner's). The view sets the countries' choices."""

    name = StringField(
        lazy_gettext("Name"),
        description=lazy_gettext("What customers choose at checkout, like Standard delivery."),
        validators=[
            DataRequired(lazy_gettext("Give the method a name, like Standard delivery.")),
            Length(
                max=DELIVERY_NAME_MAX,
                message=lazy_gettext("Use at most %(number)s characters.", number=DELIVERY_NAME_MAX),
            ),
            plain_text,
        ],
        filters=[clean_text],
    )
    price = MoneyField(
        lazy_gettext("Price"), allow_zero=True, description=lazy_gettext("0 if it is always free.")
    )
    free_above = MoneyField(
        lazy_gettext("Free for orders from"),
        validators=[Optional()],
        description=lazy_gettext(
            "The order value (before delivery) from which it costs nothing. Leave empty if it never is."
        ),
    )
    estimate = StringField(
        lazy_gettext("Delivery time"),
        description=lazy_gettext("Shown as written, like 2–4 working days."),
        validators=[
            Optional(),
            Length(
                max=ESTIMATE_MAX,
                message=lazy_gettext("Use at most %(number)s characters.", number=ESTIMATE_MAX),
            ),
            plain_text,
        ],
        filters=[clean_text],
    )
    max_days = WholeNumberField(
        lazy_gettext("Longest delivery time in days"),
        validators=[Optional()],
        minimum=1,
        maximum=MAX_DAYS,
        description=lazy_gettext(
            "Calendar days from dispatch: the 14 days to withdraw start then for orders you "
            "don't mark delivered. Empty counts as 30."
        ),
    )
    pickup = BooleanField(lazy_gettext("Customers collect their order at the shop (no delivery address)"))
    details = TextAreaField(
        lazy_gettext("Where and when to collect"),
        description=lazy_gettext(
            "For a pickup: the address and opening times, shown at checkout and on the order."
        ),
        validators=[
            Optional(),
            Length(
                max=DETAILS_MAX,
                message=lazy_gettext("Keep it under %(number)s characters.", number=DETAILS_MAX),
            ),
            plain_text,
        ],
        filters=[clean_text],
        render_kw={"rows": 3},
    )
    everywhere = RadioField(
        lazy_gettext("Delivers to"),
        choices=[
            SelectChoice("all", lazy_gettext("Every country")),
            SelectChoice("listed", lazy_gettext("Only the countries chosen below")),
        ],
        default="all",
        validators=[InputRequired(lazy_gettext("Choose where it delivers."))],
    )
    countries = SelectMultipleField(
        lazy_gettext("Countries"),
        description=lazy_gettext("Hold Ctrl (⌘ on a Mac) to choose several. A pickup ignores this."),
        validate_choice=False,
        render_kw={"size": 8},
    )
    active = BooleanField(lazy_gettext("Offer it at checkout"), default=True)
