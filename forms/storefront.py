"""The storefront: the cart's quantities, and the catalogue's products and categories (staff and owner)."""

import re

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
from models.storefront.delivery import NAME_MAX as DELIVERY_NAME_MAX
from models.storefront.pictures import valid_key


class AddToCartForm(FlaskForm):
    quantity = WholeNumberField("Quantity", minimum=1, maximum=MAX_QUANTITY, noun="quantity", default=1)


class DeliveryCountryForm(FlaskForm):
    """The country the cart estimates delivery to (the view sets the choices: the shop's list)."""

    country = SelectField("Deliver to", validators=[InputRequired("Choose a country.")])


class QuantityForm(FlaskForm):
    """A line's quantity; 0 takes the product out of the cart."""

    quantity = WholeNumberField("Quantity", minimum=0, maximum=MAX_QUANTITY, noun="quantity")


SLUG_HINT = "The end of the page's web address. Leave it empty to make one from the name."


def slug_field():
    return StringField(
        "Web address",
        description=SLUG_HINT,
        validators=[
            Optional(),
            Length(max=SLUG_MAX, message=f"Use at most {SLUG_MAX} characters."),
        ],
        filters=[lambda value: clean_text(value).lower() if value else value],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


def check_slug(form, field):
    if field.data and not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", field.data):
        raise ValidationError("Use lowercase letters, digits and single hyphens, like green-tea.")


class CategoryForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[
            DataRequired("Give the category a name."),
            Length(max=60, message="Use at most 60 characters."),
            plain_text,
        ],
        filters=[clean_text],
    )
    description = TextAreaField(
        "Description",
        description="A sentence or two shown at the top of the category's page.",
        validators=[Optional(), Length(max=1000, message="Keep it under 1,000 characters."), plain_text],
        filters=[clean_text],
    )
    position = WholeNumberField(
        "Position",
        description="Smaller numbers come first on the shop's pages.",
        validators=[Optional()],
        maximum=100_000,
        noun="position",
    )
    slug = slug_field()

    def validate_slug(self, field):
        check_slug(self, field)


class ProductForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[
            DataRequired("Give the product a name."),
            Length(max=NAME_MAX, message=f"Use at most {NAME_MAX} characters."),
            plain_text,
        ],
        filters=[clean_text],
    )
    category_id = IdSelectField(
        "Category", validators=[InputRequired("Choose a category.")], message="Choose a category."
    )
    description = TextAreaField(
        "Description",
        description="What it is, what it's made of, sizes: what a customer would ask in the shop.",
        validators=[Optional(), Length(max=5000, message="Keep it under 5,000 characters."), plain_text],
        filters=[clean_text],
        render_kw={"rows": 6},
    )
    price = MoneyField("Price")
    stock = WholeNumberField(
        "In stock", maximum=STOCK_MAX, noun="stock", missing="Enter how many are in stock, like 12."
    )
    active = BooleanField("Show in the shop", default=True)
    image = FileField(
        "Picture file",
        description="A JPEG, PNG or WebP of up to 2 MB. Square or 4:3 pictures look best.",
        render_kw={"accept": "image/jpeg,image/png,image/webp"},
    )
    # A picture uploaded with a form that then needed corrections is kept, so it isn't chosen twice.
    pending_image = HiddenField()
    remove_image = BooleanField("Remove the picture (show the placeholder)")
    slug = slug_field()

    def validate_slug(self, field):
        check_slug(self, field)

    def validate_pending_image(self, field):
        if field.data and not valid_key(field.data):
            field.data = ""


class DeliveryMethodForm(FlaskForm):
    """A delivery method (Admin → Delivery, the owner's). The view sets the countries' choices."""

    name = StringField(
        "Name",
        description="What customers choose at checkout, like Standard delivery.",
        validators=[
            DataRequired("Give the method a name, like Standard delivery."),
            Length(max=DELIVERY_NAME_MAX, message=f"Use at most {DELIVERY_NAME_MAX} characters."),
            plain_text,
        ],
        filters=[clean_text],
    )
    price = MoneyField("Price", allow_zero=True, description="0 if it is always free.")
    free_above = MoneyField(
        "Free for orders from",
        validators=[Optional()],
        description="The order value (before delivery) from which it costs nothing. Leave empty if it never is.",
    )
    estimate = StringField(
        "Delivery time",
        description="Shown as written, like 2–4 working days.",
        validators=[
            Optional(),
            Length(max=ESTIMATE_MAX, message=f"Use at most {ESTIMATE_MAX} characters."),
            plain_text,
        ],
        filters=[clean_text],
    )
    pickup = BooleanField("Customers collect their order at the shop (no delivery address)")
    details = TextAreaField(
        "Where and when to collect",
        description="For a pickup: the address and opening times, shown at checkout and on the order.",
        validators=[
            Optional(),
            Length(max=DETAILS_MAX, message=f"Keep it under {DETAILS_MAX} characters."),
            plain_text,
        ],
        filters=[clean_text],
        render_kw={"rows": 3},
    )
    everywhere = RadioField(
        "Delivers to",
        choices=[
            SelectChoice("all", "Every country"),
            SelectChoice("listed", "Only the countries chosen below"),
        ],
        default="all",
        validators=[InputRequired("Choose where it delivers.")],
    )
    countries = SelectMultipleField(
        "Countries",
        description="Hold Ctrl (⌘ on a Mac) to choose several. A pickup ignores this.",
        validate_choice=False,
        render_kw={"size": 8},
    )
    active = BooleanField("Offer it at checkout", default=True)
