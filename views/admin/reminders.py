"""The owner's payment reminder pages (/admin/reminders/…).

Who may do what: staff and the owner see the next batch preview, the results
and the history of batches (they answer customers who ask "why did I get
this?"). Only the owner changes how reminders work: the settings, the three
message templates and the category paragraphs.

The preview is the plan the next batch would make: models/reminders.plan() at
the window open now, or at the start of the next one. It writes nothing.
"""

import datetime
from collections import Counter

from babel.dates import format_date
from babel.dates import format_time
from flask import Blueprint
from flask import flash
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_login import current_user
from peewee import fn
from peewee import JOIN

from forms.reminders import category_paragraphs_form
from forms.reminders import ReminderSettingsForm
from forms.reminders import ReminderTemplateForm
from forms.reminders import WEEKDAY_NAMES
from forms.translations import field_name
from forms.translations import fill_translations
from forms.translations import translations_in
from forms.translations import with_other_languages
from models.base import as_aware_utc
from models.base import to_naive_utc
from models.base import write_transaction
from models.orders.order import Order
from models.reminders.batches import recent_batches
from models.reminders.batches import results
from models.reminders.batches import WINDOW_CLOSED
from models.reminders.messages import CategoryParagraph
from models.reminders.messages import compose
from models.reminders.messages import default_template
from models.reminders.messages import PLACEHOLDERS
from models.reminders.messages import promote_variant as promote_variant_of
from models.reminders.messages import remove_variant as remove_variant_of
from models.reminders.messages import sample_order
from models.reminders.messages import save_category_paragraphs
from models.reminders.messages import save_template
from models.reminders.messages import save_variant
from models.reminders.messages import SEGMENT_LABELS
from models.reminders.messages import template_for
from models.reminders.messages import unknown_placeholders
from models.reminders.messages import VARIANT_KIND
from models.reminders.messages import variant_template
from models.reminders.plan import HELD_OUT_LABEL
from models.reminders.plan import plan
from models.reminders.plan import REASONS
from models.reminders.plan import SEGMENTS
from models.reminders.records import CANCELLED
from models.reminders.records import HELD_OUT
from models.reminders.records import PLANNED
from models.reminders.records import Reminder
from models.reminders.records import ReminderBatch
from models.reminders.records import SENT
from models.reminders.settings import AFTER_ORDER
from models.reminders.settings import load_reminder_settings
from models.reminders.settings import update_reminder_settings
from models.reminders.settings import WEEKDAYS
from models.reminders.windows import next_window
from models.shop.language import active_locale
from models.shop.language import shop_language
from models.shop.outbox import OutboxMessage
from models.shop.outbox import UNKNOWN
from models.shop.texts import other_languages
from models.shop.texts import save_translations
from models.shop.texts import translations
from models.storefront.catalog import all_categories
from models.users.user import User
from views.lookups import row_or_404
from views.pagination import counted_page
from views.rendering import redirect_after_post
from views.rendering import render
from views.rendering import render_invalid
from views.security import owner_required
from views.settings import shop_settings

bp = Blueprint("reminders", __name__, url_prefix="/reminders")

PREVIEW_ROWS = 100  # a big shop's plan has thousands of rows: the page shows this many of each list
HISTORY_ON_OVERVIEW = 10
BATCHES_PER_PAGE = 25
REMINDERS_PER_PAGE = 100
NEEDS_OWNER_ROWS = 20
PERIODS = {"30": lazy_gettext("Last 30 days"), "all": lazy_gettext("All time")}
TEMPLATE_URL = f"/templates/<any({', '.join(SEGMENTS)}):segment>"
SEGMENT_NOTES = {
    "new": lazy_gettext(
        "Customers with no paid order yet: how to pay, an offer of help, the shop's contact details."
    ),
    "returning": lazy_gettext(
        "Customers with one paid order: a warm welcome back and their member privileges."
    ),
    "loyal": lazy_gettext(
        "Customers with two or more paid orders: their group's perks and what they have spent."
    ),
}
# The heading of a segment's message page and the words of the flash messages about it.
SEGMENT_TITLES = {
    "new": lazy_gettext("Message to new customers"),
    "returning": lazy_gettext("Message to returning customers"),
    "loyal": lazy_gettext("Message to loyal customers"),
}
SAVED = {
    "new": lazy_gettext("The message to new customers is saved."),
    "returning": lazy_gettext("The message to returning customers is saved."),
    "loyal": lazy_gettext("The message to loyal customers is saved."),
}
RESTORED = {
    "new": lazy_gettext("The message to new customers is back to the original text."),
    "returning": lazy_gettext("The message to returning customers is back to the original text."),
    "loyal": lazy_gettext("The message to loyal customers is back to the original text."),
}
VARIANT_TITLES = {
    "new": lazy_gettext("Message to new customers: wording B"),
    "returning": lazy_gettext("Message to returning customers: wording B"),
    "loyal": lazy_gettext("Message to loyal customers: wording B"),
}
PROMOTED = {
    "new": lazy_gettext("Wording B is now the message to new customers."),
    "returning": lazy_gettext("Wording B is now the message to returning customers."),
    "loyal": lazy_gettext("Wording B is now the message to loyal customers."),
}
# The message a planned reminder uses (the plan's `template`: a segment's key).
TEMPLATE_LABELS = {
    "new": lazy_gettext("New"),
    "returning": lazy_gettext("Returning"),
    "loyal": lazy_gettext("Loyal"),
}
# A reminder's state and its message's delivery state, as the batch page shows them.
STATE_LABELS = {
    PLANNED: lazy_gettext("planned"),
    SENT: lazy_gettext("sent"),
    CANCELLED: lazy_gettext("cancelled"),
    HELD_OUT: lazy_gettext("held out"),
}
MESSAGE_STATE_LABELS = {
    "queued": lazy_gettext("queued"),
    "sending": lazy_gettext("sending"),
    "sent": lazy_gettext("sent"),
    "failed": lazy_gettext("failed"),
    "unknown": lazy_gettext("unknown"),
}
# Why a planned reminder was not sent: the plan's reasons, and the two only sending knows.
CANCEL_REASONS = {
    **REASONS,
    WINDOW_CLOSED: lazy_gettext("The window closed before it could be sent"),
    "paid": lazy_gettext("Paid before it was sent"),
}
MODE_LABELS = {
    "dispatch": lazy_gettext("In the window before each dispatch"),
    AFTER_ORDER: lazy_gettext("A set time after the order"),
}


def now():
    """The current instant (aware UTC); one place, so tests can move time."""
    return datetime.datetime.now(datetime.UTC)


def actor():
    return current_user._get_current_object()


# Shop time as the owner reads it ------------------------------------------------------------


def _hhmm(moment):
    return moment.strftime("%H:%M")


def _time(moment):
    return format_time(moment, "HH:mm", locale=active_locale())


def describe_window(start, end, dispatch_at=None):
    """ "Monday 23 November, 10:00–11:00, before the 11:00 dispatch" in shop time (aware instants),
    in the page's language."""
    shop = shop_settings()
    start, end = start.astimezone(shop.tz), end.astimezone(shop.tz)
    values = {
        "day": format_date(start, "EEEE d MMMM", locale=active_locale()),
        "start": _time(start),
        "end": _time(end),
        "end_day": format_date(end, "EEEE d MMMM", locale=active_locale()),
    }
    same_day = end.date() == start.date() or end.time() == datetime.time(0)
    if dispatch_at is None:
        if same_day:
            return gettext("%(day)s, %(start)s–%(end)s", **values)
        return gettext("%(day)s, %(start)s – %(end_day)s, %(end)s", **values)
    values["dispatch"] = _time(dispatch_at.astimezone(shop.tz))
    if same_day:
        return gettext("%(day)s, %(start)s–%(end)s, before the %(dispatch)s dispatch", **values)
    return gettext("%(day)s, %(start)s – %(end_day)s, %(end)s, before the %(dispatch)s dispatch", **values)


def describe_batch(batch):
    return describe_window(
        as_aware_utc(batch.window_start), as_aware_utc(batch.window_end), as_aware_utc(batch.dispatch_at)
    )


# The overview --------------------------------------------------------------------------------


@bp.get("")
def index():
    settings = load_reminder_settings()
    moment = now()
    window = next_window(moment, settings, shop_settings().tz)
    preview = _preview(window, moment) if window is not None else None
    period = request.args.get("period", "30")
    if period not in PERIODS:
        period = "30"
    since = to_naive_utc(moment) - datetime.timedelta(days=30) if period == "30" else None
    by_segment = results(since)
    batches = recent_batches(HISTORY_ON_OVERVIEW)
    for batch in batches:
        batch.window_text = describe_batch(batch)
    return render(
        "admin/reminders/index.html",
        settings=settings,
        mode_label=MODE_LABELS.get(settings.mode, settings.mode),
        window=window,
        preview=preview,
        period=period,
        periods=PERIODS,
        results=[
            (segment, by_segment.get(segment, {"sent": 0, "orders": 0, "amount": 0})) for segment in SEGMENTS
        ],
        totals={
            key: sum(entry.get(key, 0) for entry in by_segment.values())
            for key in ("sent", "orders", "amount")
        },
        segment_labels=SEGMENT_LABELS,
        batches=batches,
        more_batches=ReminderBatch.select().count() > len(batches),
        needs_owner=_unknown_deliveries(),
        overview_url=_overview_url,
        reasons=REASONS,
        template_labels=TEMPLATE_LABELS,
        held_out_label=HELD_OUT_LABEL,
    )


def _overview_url(anchor=None, **changes):
    """The overview's URL with this request's choices (period, reason) and `changes` applied."""
    args = {key: request.args.get(key) for key in ("period", "reason") if request.args.get(key)}
    args.update(changes)
    return url_for("admin.reminders.index", **{k: v for k, v in args.items() if v}, _anchor=anchor)


def _preview(window, moment):
    """The plan at the window open now, or at the start of the next one, cut to a page's worth."""
    at = moment if window.is_open(moment) else window.start
    the_plan = plan(at, window=window)
    reason = request.args.get("reason", "")
    if reason not in REASONS:
        reason = ""
    excluded = [item for item in the_plan.excluded if not reason or item.reason == reason]
    counts = Counter(item.reason for item in the_plan.excluded)
    shown = excluded[:PREVIEW_ROWS]
    emails = dict(
        User.select(User.id, User.email).where(User.id.in_({item.customer_id for item in shown})).tuples()
    )
    return {
        "at": at,
        "open_now": window.is_open(moment),
        "window_text": describe_window(window.start, window.end, window.dispatch_at),
        "batch": ReminderBatch.get_or_none(ReminderBatch.window_key == window.key),
        "reminders": the_plan.reminders[:PREVIEW_ROWS],
        "reminder_count": len(the_plan.reminders),
        "excluded": [
            (item, emails.get(item.customer_id, ""), REASONS.get(item.reason, item.reason)) for item in shown
        ],
        "excluded_count": len(excluded),
        "excluded_total": len(the_plan.excluded),
        "reason_counts": [(key, label, counts[key]) for key, label in REASONS.items() if counts[key]],
        "reason": reason,
        "reason_label": REASONS.get(reason, ""),
    }


def _unknown_deliveries():
    """Reminders whose delivery outcome is unknown: never retried blindly, so the owner decides."""
    query = (
        Reminder.select(Reminder, OutboxMessage, User)
        .join(OutboxMessage)
        .switch(Reminder)
        .join(User)
        .where(OutboxMessage.state == UNKNOWN)
        .order_by(Reminder.id.desc())
    )
    return {"count": query.count(), "rows": list(query.limit(NEEDS_OWNER_ROWS))}


# History -------------------------------------------------------------------------------------


@bp.get("/batches")
def batches():
    total = ReminderBatch.select().count()
    page = counted_page(total, BATCHES_PER_PAGE)
    rows = recent_batches(page.size, page.offset)
    for batch in rows:
        batch.window_text = describe_batch(batch)
    return render("admin/reminders/batches.html", batches=rows, page=page, total=total)


@bp.get("/batches/<id:batch_id>")
def batch(batch_id):
    batch = row_or_404(ReminderBatch, batch_id)
    counts = dict(
        Reminder.select(Reminder.state, fn.COUNT(Reminder.id))
        .where(Reminder.batch == batch.id)
        .group_by(Reminder.state)
        .tuples()
    )
    page = counted_page(sum(counts.values()), REMINDERS_PER_PAGE)
    reminders = list(
        Reminder.select(Reminder, User, Order, OutboxMessage)
        .join(User)
        .switch(Reminder)
        .join(Order)
        .switch(Reminder)
        .join(OutboxMessage, JOIN.LEFT_OUTER)
        .where(Reminder.batch == batch.id)
        .order_by(Reminder.id)
        .paginate(page.number, page.size)
    )
    return render(
        "admin/reminders/batch.html",
        batch=batch,
        window_text=describe_batch(batch),
        counts={
            "sent": counts.get(SENT, 0),
            "cancelled": counts.get(CANCELLED, 0),
            "waiting": counts.get(PLANNED, 0),
        },
        reminders=reminders,
        cancel_reasons=CANCEL_REASONS,
        segment_labels=SEGMENT_LABELS,
        state_labels=STATE_LABELS,
        message_state_labels=MESSAGE_STATE_LABELS,
        page=page,
    )


# Settings ------------------------------------------------------------------------------------


def _settings_data(current):
    times = current.times_by_weekday()
    data = {
        name: getattr(current, name)
        for name in (
            "enabled",
            "mode",
            "window_minutes",
            "hours_after_order",
            "quiet_start",
            "quiet_end",
            "min_age_minutes",
            "cancel_margin_hours",
            "max_per_order",
            "reorder_hours",
            "holdout_percent",
        )
    }
    data["closed_dates"] = sorted(current.closed())
    for index, day in enumerate(WEEKDAYS):
        data[f"times_{day}"] = [_hhmm(time) for time in times[index]]
    return data


@bp.route("/settings", methods=["GET", "POST"])
@owner_required
def settings():
    current = load_reminder_settings()
    form = ReminderSettingsForm(data=_settings_data(current))
    context = {"form": form, "weekday_names": WEEKDAY_NAMES}
    if not form.validate_on_submit():
        if request.method == "POST":
            return render_invalid(
                "admin/reminders/settings.html", fragment="admin/reminders/_settings_form.html", **context
            )
        return render("admin/reminders/settings.html", **context)
    update_reminder_settings(form.changes(current), actor())
    flash(gettext("Reminder settings saved."), "success")
    return redirect_after_post(url_for("admin.reminders.settings"))


# Message templates ---------------------------------------------------------------------------


@bp.get("/templates")
@owner_required
def templates():
    return render(
        "admin/reminders/templates.html",
        segments=[
            (segment, SEGMENT_LABELS[segment], SEGMENT_NOTES[segment], template_for(segment)[0])
            for segment in SEGMENTS
        ],
    )


def _preview_of(segment, form):
    """(subject, text, unknown placeholders) of the typed template filled for a real order, or None
    (wording A's or B's: the typed text is filled the same way)."""
    order = sample_order()
    if order is None:
        return None
    subject, body = form.subject.data or "", form.body.data or ""
    filled_subject, text = compose(order, segment, now(), subject=subject, body=body)
    return {
        "order": order,
        "subject": filled_subject,
        "text": text,
        "unknown": unknown_placeholders(f"{subject}\n{body}"),
    }


def _template_context(segment, form, preview):
    return {
        "form": form,
        "segment": segment,
        "segment_label": SEGMENT_LABELS[segment],
        "segment_title": SEGMENT_TITLES[segment],
        "segment_note": SEGMENT_NOTES[segment],
        "placeholders": {name: str(description) for name, description in PLACEHOLDERS.items()},
        "preview": preview,
        "has_variant": variant_template(segment, shop_language()) is not None,
    }


# The owner may write a reminder in each of the shop's other languages too (forms/translations.py).
TRANSLATED = ("subject", "body")


@bp.route(TEMPLATE_URL, methods=["GET", "POST"])
@owner_required
def edit_template(segment):
    subject, body = template_for(segment, shop_language())
    data = {"subject": subject, "body": body}
    for name in TRANSLATED:
        data.update(
            {
                field_name(name, lang): text
                for lang, text in translations("reminder_template", segment, name).items()
            }
        )
    form = with_other_languages(ReminderTemplateForm, *TRANSLATED)(data=data)
    page, fragment = "admin/reminders/template.html", "admin/reminders/_template_form.html"
    if request.method == "POST" and request.form.get("action") == "preview":
        # Show the typed text filled in; nothing is saved or refused yet.
        return render(page, fragment=fragment, **_template_context(segment, form, _preview_of(segment, form)))
    if not form.validate_on_submit():
        context = _template_context(segment, form, _preview_of(segment, form))
        if request.method == "POST":
            return render_invalid(page, fragment=fragment, **context)
        return render(page, **context)
    translated = {name: translations_in(form, name) for name in TRANSLATED}
    save_template(segment, form.subject.data, form.body.data, actor(), translated)
    flash(str(SAVED[segment]), "success")
    return redirect_after_post(url_for("admin.reminders.edit_template", segment=segment))


@bp.post(f"{TEMPLATE_URL}/preview")
@owner_required
def preview_template(segment):
    """The live preview (htmx, as the owner types): only the preview's fragment."""
    form = ReminderTemplateForm()
    return render_template(
        "admin/reminders/_template_preview.html", preview=_preview_of(segment, form), segment=segment
    )


@bp.post(f"{TEMPLATE_URL}/restore")
@owner_required
def restore_template(segment):
    cleared = {
        name: dict.fromkeys(other_languages(), "") for name in TRANSLATED
    }  # the owner's, in every language
    save_template(segment, *default_template(segment, shop_language()), actor(), cleared)
    flash(str(RESTORED[segment]), "success")
    return redirect_after_post(url_for("admin.reminders.edit_template", segment=segment))


# Wording B ------------------------------------------------------------------------------------


@bp.route(f"{TEMPLATE_URL}/b", methods=["GET", "POST"])
@owner_required
def edit_variant(segment):
    """The owner's wording B of a segment: written like the message itself, in each language."""
    subject, body = variant_template(segment, shop_language()) or template_for(segment, shop_language())
    data = {"subject": subject, "body": body}
    for name in TRANSLATED:
        data.update(
            {field_name(name, lang): text for lang, text in translations(VARIANT_KIND, segment, name).items()}
        )
    form = with_other_languages(ReminderTemplateForm, *TRANSLATED)(data=data)
    page, fragment = "admin/reminders/template.html", "admin/reminders/_template_form.html"

    def context(preview):
        return {
            **_template_context(segment, form, preview),
            "variant": True,
            "heading": VARIANT_TITLES[segment],
            "form_url": url_for("admin.reminders.edit_variant", segment=segment),
        }

    if request.method == "POST" and request.form.get("action") == "preview":
        return render(page, fragment=fragment, **context(_preview_of(segment, form)))
    if not form.validate_on_submit():
        if request.method == "POST":
            return render_invalid(page, fragment=fragment, **context(_preview_of(segment, form)))
        return render(page, **context(_preview_of(segment, form)))
    translated = {name: translations_in(form, name) for name in TRANSLATED}
    save_variant(segment, form.subject.data, form.body.data, actor(), translated)
    flash(gettext("Wording B is saved: half the reminders sent from now on use it."), "success")
    return redirect_after_post(url_for("admin.reminders.edit_variant", segment=segment))


@bp.post(f"{TEMPLATE_URL}/b/remove")
@owner_required
def remove_variant(segment):
    if remove_variant_of(segment, actor()):
        flash(gettext("Wording B is removed: every reminder uses the message A again."), "success")
    return redirect_after_post(url_for("admin.reminders.edit_template", segment=segment))


@bp.post(f"{TEMPLATE_URL}/b/promote")
@owner_required
def promote_variant(segment):
    """One click from the reminders report: wording B becomes the message (audited)."""
    if promote_variant_of(segment, actor()):
        flash(str(PROMOTED[segment]), "success")
    else:
        flash(gettext("There is no wording B to promote."), "info")
    return redirect_after_post(url_for("admin.reports.show", key="reminders"))


# Category paragraphs -------------------------------------------------------------------------


@bp.route("/categories", methods=["GET", "POST"])
@owner_required
def categories():
    categories = all_categories()
    texts = {row.category_id: row.text for row in CategoryParagraph.select()}
    names = {category.id: f"category_{category.id}" for category in categories}
    form = with_other_languages(type(category_paragraphs_form(categories, texts)), *names.values())()
    if request.method != "POST":
        for category_id, name in names.items():
            fill_translations(form, name, translations("reminder_category_paragraph", category_id, "text"))
    context = {"form": form, "categories": categories}
    if not form.validate_on_submit():
        if request.method == "POST":
            return render_invalid("admin/reminders/categories.html", **context)
        return render("admin/reminders/categories.html", **context)
    with write_transaction():
        save_category_paragraphs(
            {category_id: form[name].data or "" for category_id, name in names.items()}, actor()
        )
        for category_id, name in names.items():
            save_translations(
                "reminder_category_paragraph", category_id, "text", translations_in(form, name), actor()
            )
    flash(gettext("Category paragraphs saved."), "success")
    return redirect_after_post(url_for("admin.reminders.categories"))
