"""The owner's text of a legal page (Admin → Legal pages; models/shop/legal.py)."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms import ValidationError
from wtforms.validators import DataRequired
from wtforms.validators import Length

from forms.fields import clean_text
from forms.fields import plain_text
from models.shop.legal import unfilled

PAGE_MAX = 60_000


def filled_in(form, field):
    """A page is published as saved: nothing of our "[to fill in: …]" may be left in it."""
    if unfilled(field.data):
        raise ValidationError(
            lazy_gettext(
                "%(label)s: replace each “[to fill in: …]” with your details, or take it out, before saving.",
                label=field.label.text,
            )
        )


class LegalPageForm(FlaskForm):
    body = TextAreaField(
        lazy_gettext("Text"),
        validators=[
            DataRequired(lazy_gettext("Write the page's text.")),
            Length(max=PAGE_MAX, message=lazy_gettext("Keep it under 60,000 characters.")),
            plain_text,
            filled_in,
        ],
        filters=[clean_text],
        description=lazy_gettext(
            "A blank line starts a new paragraph; a line starting with “## ” is a heading."
        ),
        render_kw={"rows": 18},
    )
