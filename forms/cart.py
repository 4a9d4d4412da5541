"""The cart's forms: a quantity to add from a product page, and a line's new quantity."""

from flask_wtf import FlaskForm

from forms.catalog import WholeNumberField
from models.storefront.cart import MAX_QUANTITY


class AddToCartForm(FlaskForm):
    quantity = WholeNumberField("Quantity", minimum=1, maximum=MAX_QUANTITY, noun="quantity", default=1)


class QuantityForm(FlaskForm):
    """A line's quantity; 0 takes the product out of the cart."""

    quantity = WholeNumberField("Quantity", minimum=0, maximum=MAX_QUANTITY, noun="quantity")
