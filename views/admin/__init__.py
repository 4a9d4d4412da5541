"""The owner's and staff's pages under /admin: the dashboard, the shop's settings and the outbox
here, and every other admin area a blueprint of its own, registered below as a child of this one.

The staff guard is this blueprint's before_request, and Flask runs a parent's before_request for
its children's views too, so no admin page can forget it. Owner-only views add @owner_required.
"""

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import request
from flask import url_for
from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_login import login_required

from forms.shop import ShopSettingsForm
from forms.translations import fill_translations
from forms.translations import is_twin
from forms.translations import translations_in
from forms.translations import with_other_languages
from models.base import write_transaction
from models.funds.credit import overdue_customers
from models.funds.ledger import latest_check
from models.funds.ledger import money_has_moved
from models.operations.health import health_report
from models.orders.notifications import provider_silence
from models.reports.dashboard import dashboard as dashboard_figures
from models.reports.dashboard import mail_status
from models.reports.order_value import order_value_hints
from models.shop.mail import absolute_url
from models.shop.mail import public_url
from models.shop.outbox import counts_by_state
from models.shop.outbox import FAILED as OUTBOX_FAILED
from models.shop.outbox import OutboxMessage
from models.shop.outbox import QUEUED
from models.shop.outbox import send_again
from models.shop.outbox import SENDING
from models.shop.outbox import SENT
from models.shop.outbox import STATES as OUTBOX_STATES
from models.shop.outbox import UNKNOWN
from models.shop.settings import shop_today
from models.shop.settings import update_settings
from models.shop.texts import save_translations
from models.shop.texts import translations
from models.users.user import count_by_role
from models.users.user import CUSTOMER
from payments import configured_name as configured_provider
from payments import mode as payment_mode
from views.admin import approvals
from views.admin import audit
from views.admin import catalog
from views.admin import credit
from views.admin import customers
from views.admin import delivery
from views.admin import funds
from views.admin import groups
from views.admin import invoices
from views.admin import legal
from views.admin import marketplace
from views.admin import orders
from views.admin import reminders
from views.admin import reports
from views.admin import staff
from views.admin import vat_rates
from views.lookups import row_or_404
from views.pagination import counted_page
from views.rendering import redirect_after_post
from views.rendering import render
from views.rendering import render_invalid
from views.security import owner_required
from views.security import staff_required
from views.settings import shop_settings

bp = Blueprint("admin", __name__, url_prefix="/admin")

OUTBOX_PAGE_SIZE = 25

# An outbox message's state in words (the state itself is what is stored).
OUTBOX_STATE_LABELS = {
    QUEUED: lazy_gettext("Queued"),
    SENDING: lazy_gettext("Sending"),
    SENT: lazy_gettext("Sent"),
    OUTBOX_FAILED: lazy_gettext("Failed"),
    UNKNOWN: lazy_gettext("Unknown"),
}


@bp.before_request
@login_required
@staff_required
def require_staff():
    """Every admin page, this blueprint's and its children's, needs staff or owner."""


@bp.context_processor
def admin_helpers():
    return {"outbox_state": lambda state: OUTBOX_STATE_LABELS.get(state, state)}


AREAS = (
    catalog,
    vat_rates,
    delivery,
    customers,
    funds,
    credit,
    approvals,
    groups,
    staff,
    audit,
    orders,
    marketplace,
    reminders,
    reports,
    invoices,
    legal,
)
for area in AREAS:
    bp.register_blueprint(area.bp)


@bp.get("/")
def dashboard():
    health = health_report()
    scheduler = health.get("scheduler") or {}
    return render(
        "admin/dashboard.html",
        customers=count_by_role(CUSTOMER),
        outbox=counts_by_state(),
        mail=mail_status(secrets_masked(), bool(scheduler.get("healthy"))),
        health=health,
        ledger_check=latest_check(),
        overdue=overdue_customers(),
        figures=dashboard_figures(shop_today()),
    )


@bp.route("/settings", methods=["GET", "POST"])
@owner_required
def settings():
    current = shop_settings()
    form = with_other_languages(ShopSettingsForm, "tagline")(obj=current)
    if request.method != "POST":
        fill_translations(form, "tagline", translations("shop_settings", current.id, "tagline"))
    currency_locked = money_has_moved()
    if currency_locked:
        form.currency.render_kw = {"readonly": True}
    if not form.validate_on_submit():
        provider = configured_provider()
        context = {
            "form": form,
            "currency_locked": currency_locked,
            "provider": provider,
            "provider_mode": payment_mode(current_app.config),
            "provider_silence": provider_silence(provider),
            "webhook_url": absolute_url("funds.provider_notification", provider_name=provider),
            "order_hints": order_value_hints(shop_today()),
            "public_url": public_url(),
        }
        if request.method == "POST":
            return render_invalid("admin/settings.html", fragment="admin/_settings_form.html", **context)
        return render("admin/settings.html", **context)
    changes = {
        name: "" if field.data is None else field.data
        for name, field in form._fields.items()
        if name != "csrf_token" and not is_twin(name)
    }
    if currency_locked:
        changes["currency"] = current.currency
    with write_transaction():
        update_settings(changes, current_user)
        save_translations(
            "shop_settings", current.id, "tagline", translations_in(form, "tagline"), current_user
        )
    flash(gettext("Settings saved."), "success")
    return redirect_after_post(url_for("admin.settings"))


NOT_SENT_AGAIN = lazy_gettext(
    "This message carried a private link or code, so it is not sent again: the customer can ask for a new one."
)


def secrets_masked():
    """With a mail server, messages reach their customers and the secrets in them (sign-in, password
    and confirmation links, codes) are hidden here; without one, this outbox is the only way to read
    them (development, the demo). See models/shop/outbox.py."""
    return bool(current_app.config["SMTP_HOST"])


@bp.get("/outbox")
@owner_required
def outbox():
    state = request.args.get("state", "")
    state = state if state in OUTBOX_STATES else ""  # an unknown filter shows every message
    query = OutboxMessage.select().order_by(OutboxMessage.id.desc())
    if state:
        query = query.where(OutboxMessage.state == state)
    page = counted_page(query.count(), OUTBOX_PAGE_SIZE)
    return render(
        "admin/outbox.html",
        messages=list(query.paginate(page.number, page.size)),
        page=page,
        state=state,
        counts=counts_by_state(),
        masked=secrets_masked(),
    )


@bp.get("/outbox/<id:message_id>")
@owner_required
def outbox_message(message_id):
    message = row_or_404(OutboxMessage, message_id)
    return render(
        "admin/outbox_message.html",
        message=message,
        masked=secrets_masked(),
        not_sent_again=NOT_SENT_AGAIN,
    )


@bp.post("/outbox/<id:message_id>/send-again")
@owner_required
def outbox_send_again(message_id):
    message = row_or_404(OutboxMessage, message_id)
    if message.state != UNKNOWN:
        flash(gettext("Only messages whose delivery is unknown can be sent again."), "error")
    elif message.carried_secrets:
        flash(str(NOT_SENT_AGAIN), "error")
    else:
        send_again(message, current_user)
        flash(gettext("The message is queued to be sent again."), "success")
    return redirect_after_post(url_for("admin.outbox_message", message_id=message.id))
