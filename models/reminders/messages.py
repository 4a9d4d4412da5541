"""What a payment reminder says: the owner's templates, their {placeholders}, the opt-out link.

The owner writes plain text with `{name}` placeholders. Filling them is a plain
substitution of known names by text (no expressions, no attribute access, no
template language), so nothing the owner writes can run; the HTML version is
that text in the shop's fixed email layout (models/shop/mail.py). `{{` and `}}`
write a literal brace.

Languages: the shop's default wording exists in every language the shop speaks
(DEFAULT_TEMPLATES are messages of the catalogues). Until the owner edits a segment's text, each
reminder is written from the default in the order's language (`reminder_language`); a text the
owner saved is used as written, for every customer. Saving the default wording unchanged (or
"Restore the original text") removes the owner's text, so the defaults speak every language again.
"""

import datetime
import re

from babel.dates import format_datetime
from babel.dates import format_time
from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_babel import ngettext
from itsdangerous import BadData
from peewee import CharField
from peewee import DateTimeField
from peewee import fn
from peewee import ForeignKeyField
from peewee import TextField

from models.base import BaseModel
from models.base import to_naive_utc
from models.base import utcnow
from models.base import write_transaction
from models.groups.group import settings_for
from models.orders.account_payment import can_pay_from_account
from models.orders.order import BANK
from models.orders.order import Order
from models.orders.order import OrderLine
from models.orders.order import PAID
from models.orders.order import PENDING_PAYMENT
from models.orders.order import products_of
from models.orders.pay_link import pay_link
from models.reminders.plan import LOYAL
from models.reminders.plan import NEW
from models.reminders.plan import RETURNING
from models.reminders.plan import SEGMENTS
from models.reminders.records import ReminderVariant
from models.reminders.windows import next_dispatch
from models.shop.audit import audit
from models.shop.language import active_language
from models.shop.language import active_locale
from models.shop.language import format_money
from models.shop.language import in_language
from models.shop.language import shop_language
from models.shop.mail import absolute_url
from models.shop.mail import Quiet
from models.shop.mail import unlinkable
from models.shop.settings import load_settings
from models.shop.texts import other_languages
from models.shop.texts import owner_text
from models.shop.texts import save_translations
from models.shop.texts import translation
from models.shop.texts import translations
from models.signing import serializer
from models.storefront.catalog import Category
from models.storefront.catalog import Product
from models.users.user import User

# The placeholders' names are the same in every language (the owner types them); their
# descriptions are in the page's language.
PLACEHOLDERS = {
    "first_name": lazy_gettext("The customer's first name"),
    "order_number": lazy_gettext("The order's number"),
    "order_total": lazy_gettext("The order's total"),
    "amount_due": lazy_gettext("What is still to pay"),
    "deadline": lazy_gettext(
        "The next dispatch, e.g. “Pay before 11:00 today and your order leaves with today's dispatch.”"
    ),
    "cancel_deadline": lazy_gettext("When the unpaid order is cancelled, as a sentence"),
    "how_to_pay": lazy_gettext("Bank details and reference, or how to pay by card"),
    "pay_url": lazy_gettext("The order's payment page (pay, or switch between card and bank transfer)"),
    "shop_name": lazy_gettext("The shop's name"),
    "contact_email": lazy_gettext("The shop's contact email"),
    "contact_phone": lazy_gettext("The shop's contact phone"),
    "group_name": lazy_gettext("The customer's group"),
    "group_perks": lazy_gettext("What the customer's group gets"),
    "paid_orders": lazy_gettext("How many orders the customer has paid"),
    "total_spent": lazy_gettext("What the customer has spent with the shop"),
    "first_item": lazy_gettext("The name of the order's first item"),
    "items_summary": lazy_gettext("The order's items in short, e.g. “Blue mug and 2 more”"),
}

# The shop's own wording, read in the language of the reminder (or of the owner's page). The
# {placeholders} stay as they are in every language.
DEFAULT_TEMPLATES = {
    NEW: (
        lazy_gettext("Your order {order_number} is waiting for payment"),
        lazy_gettext(
            "Hello {first_name},\n\n"
            "Thank you for ordering from {shop_name}. Your order {order_number} of {order_total} "
            "is waiting for payment of {amount_due}.\n\n"
            "{deadline} {cancel_deadline}\n\n"
            "{how_to_pay}\n\n"
            "Pay now, or switch between card and bank transfer (no need to sign in):\n{pay_url}\n\n"
            "Is this your first order with us? If anything is unclear, just reply or write to "
            "{contact_email}. We are happy to help."
        ),
    ),
    RETURNING: (
        lazy_gettext("{items_summary}: your order {order_number} is waiting for payment"),
        lazy_gettext(
            "Hello {first_name},\n\n"
            "Good to see you back at {shop_name}! Your order {order_number} of {order_total} "
            "is waiting for payment of {amount_due}.\n\n"
            "{deadline} {cancel_deadline}\n\n"
            "{how_to_pay}\n\n"
            "Pay now, or switch between card and bank transfer (no need to sign in):\n{pay_url}\n\n"
            "As a {group_name} member: {group_perks}"
        ),
    ),
    LOYAL: (
        lazy_gettext("{first_name}, your order {order_number} ({items_summary}) is waiting for payment"),
        lazy_gettext(
            "Hello {first_name},\n\n"
            "Thank you for staying with {shop_name}: {paid_orders} orders and {total_spent} so far. "
            "Your order {order_number} of {order_total} is waiting for payment of {amount_due}.\n\n"
            "{deadline} {cancel_deadline}\n\n"
            "{how_to_pay}\n\n"
            "Pay now, or switch between card and bank transfer (no need to sign in):\n{pay_url}\n\n"
            "Your {group_name} perks: {group_perks}"
        ),
    ),
}
SEGMENT_LABELS = {
    NEW: lazy_gettext("New customers"),
    RETURNING: lazy_gettext("Returning customers"),
    LOYAL: lazy_gettext("Loyal customers"),
}

PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def unknown_placeholders(text):
    """The `{names}` in `text` that are not placeholders (a typo the owner should hear about)."""
    return sorted(
        {m.group(1) for m in PLACEHOLDER.finditer(text) if m.group(1) is not None} - set(PLACEHOLDERS)
    )


def fill(text, values):
    """`text` with each known `{name}` replaced by its value; anything else is left as written."""

    def replace(match):
        if match.group(0) in ("{{", "}}"):
            return match.group(0)[0]
        name = match.group(1)
        return str(values[name]) if name in values else match.group(0)

    return PLACEHOLDER.sub(replace, text)


def default_template(segment, language=None):
    """(subject, body) of the shop's own wording for the segment, in `language` (the active one
    unless told)."""
    subject, body = DEFAULT_TEMPLATES[segment]
    if language is None:
        return str(subject), str(body)
    with in_language(language):
        return str(subject), str(body)


def template_for(segment, language=None, variant="A"):
    """(subject, body) of the segment's template for a reader of `language` (the active one unless
    told): the owner's wording in that language (both written), else the owner's in the shop's
    language, else the shop's own default in the reader's language. `variant` "B": the owner's
    wording B, while there is one (a reminder planned with B whose B was since promoted or removed
    gets wording A, which is then the same text or the owner's choice)."""
    language = language or active_language()
    if variant == "B":
        wording_b = variant_template(segment, language)
        if wording_b is not None:
            return wording_b
    if language != shop_language():
        subject = translation("reminder_template", segment, "subject", language)
        body = translation("reminder_template", segment, "body", language)
        if subject and body:
            return subject, body
    saved = ReminderTemplate.get_or_none(ReminderTemplate.segment == segment)
    if saved is None:
        return default_template(segment, language)
    return saved.subject, saved.body


def save_template(segment, subject, body, actor=None, translated=None):
    """Save the owner's text for the segment (audited), and `translated` ({field: {language:
    text}}: the same in other languages). The shop's own wording (in the language the owner reads
    it in) is not kept as the owner's text: the defaults apply again, in every language."""
    if segment not in SEGMENTS:
        raise ValueError(segment)
    with write_transaction():
        for field, texts in (translated or {}).items():
            save_translations("reminder_template", segment, field, texts, actor)
        _save_template(segment, subject, body, actor)


def _save_template(segment, subject, body, actor):
    """Inside save_template's transaction: audit a change, then keep the owner's text, or none
    when it is the shop's own wording."""
    before_subject, before_body = template_for(segment, shop_language())
    if (before_subject, before_body) != (subject, body):
        audit(
            actor,
            "reminder_template_changed",
            f"payment reminder to {segment} customers",
            before={"subject": before_subject, "body": before_body},
            after={"subject": subject, "body": body},
        )
    if (subject, body) == default_template(segment, shop_language()):
        ReminderTemplate.delete().where(ReminderTemplate.segment == segment).execute()
        return
    (
        ReminderTemplate.insert(segment=segment, subject=subject, body=body, updated_at=utcnow())
        .on_conflict(
            conflict_target=[ReminderTemplate.segment],
            update={
                ReminderTemplate.subject: subject,
                ReminderTemplate.body: body,
                ReminderTemplate.updated_at: utcnow(),
            },
        )
        .execute()
    )


# Wording B: the same segment, other words; half the reminders sent use it (experiment.py).
VARIANT_KIND = "reminder_variant"


def variant_template(segment, language=None):
    """(subject, body) of the owner's wording B for a reader of `language`, or None."""
    saved = ReminderVariant.get_or_none(ReminderVariant.segment == segment)
    if saved is None:
        return None
    language = language or active_language()
    if language != shop_language():
        subject = translation(VARIANT_KIND, segment, "subject", language)
        body = translation(VARIANT_KIND, segment, "body", language)
        if subject and body:
            return subject, body
    return saved.subject, saved.body


def save_variant(segment, subject, body, actor=None, translated=None):
    """Save the owner's wording B of the segment (audited) and its other languages."""
    if segment not in SEGMENTS:
        raise ValueError(segment)
    with write_transaction():
        for field, texts in (translated or {}).items():
            save_translations(VARIANT_KIND, segment, field, texts, actor)
        before = variant_template(segment, shop_language())
        if before != (subject, body):
            audit(
                actor,
                "reminder_variant_changed",
                f"payment reminder to {segment} customers, wording B",
                before=dict(zip(("subject", "body"), before or ("", ""), strict=True)),
                after={"subject": subject, "body": body},
            )
        (
            ReminderVariant.insert(segment=segment, subject=subject, body=body, updated_at=utcnow())
            .on_conflict(
                conflict_target=[ReminderVariant.segment],
                update={
                    ReminderVariant.subject: subject,
                    ReminderVariant.body: body,
                    ReminderVariant.updated_at: utcnow(),
                },
            )
            .execute()
        )


def remove_variant(segment, actor=None):
    """Stop testing wording B: every reminder planned from now on gets wording A (audited)."""
    with write_transaction():
        before = variant_template(segment, shop_language())
        if before is None:
            return False
        _drop_variant(segment, actor)
        audit(
            actor,
            "reminder_variant_removed",
            f"payment reminder to {segment} customers, wording B",
            before={"subject": before[0], "body": before[1]},
            after={},
        )
    return True


def promote_variant(segment, actor=None):
    """Wording B becomes the segment's wording, in every language, and B is cleared (audited
    as the template's change and B's removal). False when the segment has no wording B."""
    with write_transaction():
        wording_b = variant_template(segment, shop_language())
        if wording_b is None:
            return False
        texts = {field: translations(VARIANT_KIND, segment, field) for field in ("subject", "body")}
        cleared = {field: dict.fromkeys(other_languages(), "") for field in ("subject", "body")}
        for field in texts:
            cleared[field].update(texts[field])
        for field, by_language in cleared.items():
            save_translations("reminder_template", segment, field, by_language, actor)
        _save_template(segment, *wording_b, actor)
        _drop_variant(segment, actor)
        audit(
            actor,
            "reminder_variant_promoted",
            f"payment reminder to {segment} customers",
            before={},
            after={"subject": wording_b[0], "body": wording_b[1]},
        )
    return True


def _drop_variant(segment, actor):
    for field in ("subject", "body"):
        save_translations(VARIANT_KIND, segment, field, dict.fromkeys(other_languages(), ""), actor)
    ReminderVariant.delete().where(ReminderVariant.segment == segment).execute()


def save_category_paragraphs(wanted, actor=None):
    """Set the extra paragraph of each category in `wanted` ({category id: text}); "" removes it."""
    with write_transaction():
        current = {row.category_id: row.text for row in CategoryParagraph.select()}
        for category_id, text in wanted.items():
            if text == current.get(category_id, ""):
                continue
            audit(
                actor,
                "reminder_category_paragraph_changed",
                f"payment reminder paragraph for category {category_id}",
                before={"text": current.get(category_id, "")},
                after={"text": text},
            )
            if not text:
                CategoryParagraph.delete().where(CategoryParagraph.category == category_id).execute()
                continue
            (
                CategoryParagraph.insert(category=category_id, text=text)
                .on_conflict(
                    conflict_target=[CategoryParagraph.category], update={CategoryParagraph.text: text}
                )
                .execute()
            )


# The values ---------------------------------------------------------------------------------


def _when(moment, now, tz, locale):
    """("today" | "tomorrow" | "later", the time, the day) of `moment` in shop time."""
    local, today = moment.astimezone(tz), now.astimezone(tz).date()
    time = format_time(local, "HH:mm", locale=locale)
    day = format_datetime(local, "EEEE d MMMM", locale=locale)
    if local.date() == today:
        return "today", time, day
    if local.date() == today + datetime.timedelta(days=1):
        return "tomorrow", time, day
    return "later", time, day


def deadline_sentence(now, tz, locale):
    dispatch = next_dispatch(now)
    if dispatch is None:
        return gettext("Pay soon and we will send your order as soon as we can.")
    when, time, day = _when(dispatch, now, tz, locale)
    if when == "today":
        return gettext("Pay before %(time)s today and your order leaves with today's dispatch.", time=time)
    if when == "tomorrow":
        return gettext(
            "Pay before %(time)s tomorrow and your order leaves with tomorrow's dispatch.", time=time
        )
    return gettext(
        "Pay before %(time)s on %(day)s and your order leaves with that day's dispatch.", time=time, day=day
    )


def cancel_sentence(order, now, tz, locale):
    if order.auto_cancel_at is None:
        return ""
    moment = order.auto_cancel_at.replace(tzinfo=datetime.UTC)
    when, time, day = _when(moment, now, tz, locale)
    if when == "today":
        return gettext("If it is still unpaid at %(time)s today, it will be cancelled.", time=time)
    if when == "tomorrow":
        return gettext("If it is still unpaid at %(time)s tomorrow, it will be cancelled.", time=time)
    return gettext("If it is still unpaid at %(time)s on %(day)s, it will be cancelled.", time=time, day=day)


def how_to_pay(order, shop):
    """The ways this customer can pay this order now, in a sentence or two (the {how_to_pay} placeholder)."""
    if order.payment_method == BANK and order.bank_amount:
        values = {
            "amount": format_money(order.bank_amount),
            "name": shop.bank_account_name or shop.shop_name,
            "iban": shop.bank_iban,
            "bic": shop.bank_bic,
            "reference": order.number,
        }
        if shop.bank_iban and shop.bank_bic:
            said = gettext(
                "Transfer %(amount)s to %(name)s, IBAN or account number %(iban)s, BIC or sort code "
                "%(bic)s, with the reference %(reference)s.",
                **values,
            )
        elif shop.bank_iban:
            said = gettext(
                "Transfer %(amount)s to %(name)s, IBAN or account number %(iban)s, with the reference "
                "%(reference)s.",
                **values,
            )
        elif shop.bank_bic:
            said = gettext(
                "Transfer %(amount)s to %(name)s, BIC or sort code %(bic)s, with the reference %(reference)s.",
                **values,
            )
        else:
            said = gettext("Transfer %(amount)s to %(name)s, with the reference %(reference)s.", **values)
    else:
        said = gettext(
            "You can pay %(amount)s by card on the payment page in a minute.", amount=format_money(order.due)
        )
    if order.payment_method != BANK and can_pay_from_account(order):
        said += " " + gettext(
            "On the payment page you can also pay from your account funds or credit, once signed in."
        )
    return said


def customer_history(user, now):
    """(paid orders, total spent) of the customer up to `now`, in one query."""
    count, spent = (
        Order.select(fn.COUNT(Order.id), fn.COALESCE(fn.SUM(Order.total - Order.refunded), 0))
        .where((Order.user == user) & Order.paid_at.is_null(False) & (Order.paid_at <= to_naive_utc(now)))
        .tuples()
        .get()
    )
    return count, int(spent)


def values_for(order, now):
    """The placeholder values for a reminder about `order` sent at `now` (aware UTC).

    What someone typed (the customer's name, the group's) is `unlinkable`: only the shop's own
    links are links in its messages (models/shop/mail.py)."""
    shop = load_settings()
    user = order.user
    group = settings_for(user)
    paid_orders, spent = customer_history(user, now)
    return {
        "first_name": unlinkable(user.first_name or gettext("there")),
        "order_number": order.number,
        "order_total": format_money(order.total),
        "amount_due": format_money(order.due),
        "deadline": deadline_sentence(now, shop.tz, active_locale()),
        "cancel_deadline": cancel_sentence(order, now, shop.tz, active_locale()),
        "how_to_pay": how_to_pay(order, shop),
        "pay_url": pay_link(order),
        "shop_name": shop.shop_name,
        "contact_email": shop.contact_email,
        "contact_phone": shop.contact_phone,
        "group_name": unlinkable(group.group_name),
        "group_perks": unlinkable(owner_text(order.user.group, "perks") if order.user.group_id else ""),
        "paid_orders": paid_orders,
        "total_spent": format_money(spent),
        **item_values(order),
    }


def _product_lines(order):
    return list(
        OrderLine.select()
        .where((OrderLine.order == order.id) & (OrderLine.kind == "product"))
        .order_by(OrderLine.id)
    )


def item_values(order):
    """{first_item}: the first item's name; {items_summary}: "Blue mug and 2 more" (names as the
    shop wrote them, `unlinkable` like everything typed)."""
    lines = _product_lines(order)
    if not lines:
        return {"first_item": "", "items_summary": ""}
    first = unlinkable(lines[0].name)
    others = len(lines) - 1
    summary = first
    if others:
        summary = ngettext("%(name)s and %(num)d more", "%(name)s and %(num)d more", others, name=first)
    return {"first_item": first, "items_summary": summary}


PICTURES_SHOWN = 4
THUMBNAIL_WIDTH = 64


def item_pictures(order):
    """The pictures of the order's first items for the HTML part: (absolute URL of the smallest
    rendition, alt text, width, height); items without a picture are left out."""
    lines = _product_lines(order)[:PICTURES_SHOWN]
    products = products_of(lines)
    pictures = []
    for line in lines:
        product = products.get(line.product_id)
        if product is None or not product.image or not product.picture_widths:
            continue
        url = absolute_url("storefront.product_picture", key=product.image, width=product.picture_widths[0])
        height = round(THUMBNAIL_WIDTH * (product.image_height or 1) / (product.image_width or 1))
        pictures.append((url, unlinkable(line.name), THUMBNAIL_WIDTH, height))
    return pictures


def category_paragraphs(order):
    """The owner's extra paragraph for each product category in the order, once each (as the
    owner wrote it in the active language, else in the shop's)."""
    categories = (
        Product.select(Product.category)
        .join(OrderLine, on=(OrderLine.product_id == Product.id))
        .where(OrderLine.order == order.id)
        .distinct()
    )
    rows = (
        CategoryParagraph.select()
        .where(CategoryParagraph.category.in_(categories))
        .order_by(CategoryParagraph.category)
    )
    language = active_language()
    texts = [
        (
            language != shop_language()
            and translation("reminder_category_paragraph", row.category_id, "text", language)
        )
        or row.text
        for row in rows
    ]
    return [text.strip() for text in texts if text.strip()]


def compose(order, segment, now, subject=None, body=None, variant="A"):
    """(subject, text) of the reminder in wording `variant`; `subject`/`body` override the saved
    template (preview)."""
    saved_subject, saved_body = template_for(segment, variant=variant)
    values = values_for(order, now)
    text = fill(body if body is not None else saved_body, values)
    extra = category_paragraphs(order)
    unsubscribe = absolute_url("reminders.unsubscribe", token=opt_out_token(order.user_id))
    footer = gettext("Don't want payment reminders? Stop them here:") + f"\n{unsubscribe}"
    text = "\n\n".join([text.strip(), *extra, footer])
    return fill(subject if subject is not None else saved_subject, values).replace("\n", " ").strip(), text


def reminder_links(order):
    """The words on the reminder's links in its HTML part (models/shop/mail.py, send_text's links):
    the pay link a button, the opt-out a plain link."""
    unsubscribe = absolute_url("reminders.unsubscribe", token=opt_out_token(order.user_id))
    return {
        pay_link(order): gettext("Pay order %(number)s", number=order.number),
        unsubscribe: Quiet(gettext("Stop payment reminders")),
    }


def reminder_language(order):
    """The language a reminder about `order` is written in: the order's, else its customer's
    account language, else the shop's default (None)."""
    return order.language or order.user.language or None


def unsubscribe_headers(user_id):
    """RFC 8058 one-click unsubscribe: mail clients POST `List-Unsubscribe=One-Click` to the URL."""
    url = absolute_url("reminders.unsubscribe", token=opt_out_token(user_id))
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


# Opting out ------------------------------------------------------------------------------------

OPT_OUT_SALT = "reminder-opt-out"


def _signer():
    return serializer(OPT_OUT_SALT)


def opt_out_token(user_id):
    return _signer().dumps(user_id)


def user_for_opt_out(token):

    if not token or len(token) > 200:
        return None
    try:
        user_id = _signer().loads(token)
    except (BadData, TypeError, ValueError):
        return None
    return User.get_or_none(User.id == user_id) if type(user_id) is int else None


def set_opted_out(user, opted_out):

    User.update(reminders_opted_out_at=utcnow() if opted_out else None).where(User.id == user.id).execute()


def sample_order():
    """A real order to preview templates with: the newest unpaid one, else the newest."""

    return (
        Order.select()
        .where((Order.status == PENDING_PAYMENT) & (Order.channel == "shop"))
        .order_by(Order.id.desc())
        .first()
        or Order.select().where(Order.status == PAID).order_by(Order.id.desc()).first()
        or Order.select().order_by(Order.id.desc()).first()
    )


class ReminderTemplate(BaseModel):
    segment = CharField(unique=True)
    subject = CharField()
    body = TextField()
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "reminder_template"


class CategoryParagraph(BaseModel):
    category = ForeignKeyField(Category, unique=True, on_delete="CASCADE")
    text = TextField()

    class Meta:
        table_name = "reminder_category_paragraph"
