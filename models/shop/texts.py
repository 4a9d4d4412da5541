"""The owner's own texts in each language the shop speaks (issue 23).

The owner writes a text (the tagline, a group's perks, a reminder's wording…) in the shop's
default language in its usual field; the same text in another language is a `TranslatedText` row
for that field of that row. A reader gets the text in their language when the owner wrote one,
else the default-language text: nothing is ever blank because a translation is missing.
"""

from peewee import CharField
from peewee import DateTimeField
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.shop.audit import audit
from models.shop.language import active_language
from models.shop.language import LANGUAGES
from models.shop.language import shop_language


class TranslatedText(BaseModel):
    owner_kind = CharField()  # a table ("shop_settings", "customer_group") or a kind of text
    owner_key = CharField()  # the row's id, or its key ("unpaid" for a reminder segment)
    field = CharField()
    language = CharField(max_length=8)
    text = TextField()
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "translated_text"
        indexes = ((("owner_kind", "owner_key", "field", "language"), True),)


def other_languages():
    """The languages besides the shop's default one, in which the owner may write their texts."""
    default = shop_language()
    return [language for language in LANGUAGES if language != default]


def translation(owner_kind, owner_key, field, language):
    """What the owner wrote for this field in `language`, or None."""
    row = TranslatedText.get_or_none(
        (TranslatedText.owner_kind == owner_kind)
        & (TranslatedText.owner_key == str(owner_key))
        & (TranslatedText.field == field)
        & (TranslatedText.language == language)
    )
    return row.text if row is not None and row.text.strip() else None


def translations(owner_kind, owner_key, field):
    """{language: text} the owner wrote for this field besides the default language."""
    rows = TranslatedText.select().where(
        (TranslatedText.owner_kind == owner_kind)
        & (TranslatedText.owner_key == str(owner_key))
        & (TranslatedText.field == field)
    )
    return {row.language: row.text for row in rows}


def save_translations(owner_kind, owner_key, field, texts, actor=None):
    """Keep `texts` ({language: text}) for this field, inside the caller's write transaction; an
    empty text removes that language's (its readers get the default-language text again). Each
    change is audited, like the default-language text's."""
    before = translations(owner_kind, owner_key, field)
    for language, text in texts.items():
        if (text or "").strip() != before.get(language, "").strip():
            audit(
                actor,
                "translation_changed",
                f"{owner_kind} {owner_key}: {field} ({language})",
                before={field: before.get(language, "")},
                after={field: text or ""},
            )
        where = (
            (TranslatedText.owner_kind == owner_kind)
            & (TranslatedText.owner_key == str(owner_key))
            & (TranslatedText.field == field)
            & (TranslatedText.language == language)
        )
        if not (text or "").strip():
            TranslatedText.delete().where(where).execute()
            continue
        TranslatedText.insert(
            owner_kind=owner_kind, owner_key=str(owner_key), field=field, language=language, text=text
        ).on_conflict(
            conflict_target=[
                TranslatedText.owner_kind,
                TranslatedText.owner_key,
                TranslatedText.field,
                TranslatedText.language,
            ],
            update={TranslatedText.text: text, TranslatedText.updated_at: utcnow()},
        ).execute()


def owner_text(row, field, language=None):
    """`row`'s `field` as the owner wrote it for the reader's language (the active one unless
    told), else as written in the shop's default language."""
    language = language or active_language()
    default_text = getattr(row, field)
    if language == shop_language():
        return default_text
    return translation(row._meta.table_name, row.id, field, language) or default_text
