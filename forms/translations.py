"""The owner's texts in the shop's other languages (issue 23).

A form field the owner writes a text in (the tagline, a group's perks) gets a twin for each
language besides the shop's default one, `tagline__fr`, labelled "Tagline (Français)": optional,
with the same limits. Empty, its readers get the default-language text (models/shop/texts.py).
"""

from flask_babel import lazy_gettext
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Optional

from models.shop.language import LANGUAGES
from models.shop.texts import other_languages

SEPARATOR = "__"
# wtforms.Field's arguments in order, for fields declared with some of them positional.
FIELD_ARGUMENTS = ("label", "validators", "filters", "description", "id", "default", "widget", "render_kw")


def with_other_languages(form_class, *names):
    """`form_class` with a twin of each field in `names` per other language."""
    twins = {}
    for name in names:
        unbound = getattr(form_class, name)
        kwargs = {**dict(zip(FIELD_ARGUMENTS, unbound.args, strict=False)), **unbound.kwargs}
        label = kwargs.pop("label", None) or name
        kwargs.pop("description", None)
        kwargs.pop("default", None)  # a twin starts empty: the default-language text is the field's
        render_kw = kwargs.pop("render_kw", None) or {}
        validators = [Optional()] + [
            validator
            for validator in kwargs.pop("validators", [])
            if not isinstance(validator, (DataRequired, InputRequired, Optional))
        ]
        for language in other_languages():
            twins[field_name(name, language)] = UnboundField(
                unbound.field_class,
                lazy_gettext("%(label)s (%(language)s)", label=label, language=LANGUAGES[language]),
                validators=validators,
                description=lazy_gettext(
                    "Leave it empty to show the text above to readers of this language."
                ),
                render_kw={**render_kw, "lang": language},
                **kwargs,
            )
    return type(form_class.__name__, (form_class,), twins)


def field_name(name, language):
    return f"{name}{SEPARATOR}{language}"


def is_twin(name):
    return SEPARATOR in name


def _twins(form, name):
    """{language: field} of the twins `form` was made with (the shop's language may change as the
    form is saved: the form's own fields say which languages it has)."""
    prefix = f"{name}{SEPARATOR}"
    return {key.removeprefix(prefix): field for key, field in form._fields.items() if key.startswith(prefix)}


def translation_fields(form, name):
    """The twins of `form`'s field `name`, to show under it."""
    return list(_twins(form, name).values())


def translations_in(form, name):
    """{language: text} the owner typed in the twins of `name`."""
    return {language: (field.data or "").strip() for language, field in _twins(form, name).items()}


def fill_translations(form, name, texts):
    """Show the texts kept for `name` ({language: text}) in its twins (a page shown, not sent)."""
    for language, field in _twins(form, name).items():
        field.data = texts.get(language, "")
