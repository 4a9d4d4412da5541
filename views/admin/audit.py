"""The audit list (/admin/audit): every admin action, newest first; the owner's.

An entry's action is a stored key ("product_hidden"), shown in the page's language (`ACTIONS`; a
key not listed reads as its words). The before and after values keep the record's own field
names, shown as the code they are: the list is the shop's record of exactly what changed.
"""

import re

from flask import Blueprint
from flask_babel import lazy_gettext

from models.shop.audit import recent_entries
from models.shop.legal import PAGES as LEGAL_PAGES
from views.pagination import uncounted_page
from views.rendering import render
from views.security import owner_required

bp = Blueprint("audit", __name__, url_prefix="/audit")

PAGE_SIZE = 50

ACTIONS = {
    "adjustment_declined": lazy_gettext("Balance adjustment declined"),
    "application_approved": lazy_gettext("Group application approved"),
    "application_rejected": lazy_gettext("Group application declined"),
    "adjustment_requested": lazy_gettext("Balance adjustment requested"),
    "balance_adjusted": lazy_gettext("Balance adjusted"),
    "bank_payment_recorded": lazy_gettext("Bank payment recorded"),
    "category_changed": lazy_gettext("Category changed"),
    "category_created": lazy_gettext("Category created"),
    "credit_approved": lazy_gettext("Credit approved"),
    "credit_declined": lazy_gettext("Credit declined"),
    "customer_changed": lazy_gettext("Customer changed"),
    "customer_created": lazy_gettext("Customer created"),
    "customer_group_changed": lazy_gettext("Customer's group changed"),
    "customer_paused": lazy_gettext("Customer paused"),
    "customer_resumed": lazy_gettext("Customer resumed"),
    "delivery_method_changed": lazy_gettext("Delivery method changed"),
    "delivery_method_created": lazy_gettext("Delivery method created"),
    "delivery_method_hidden": lazy_gettext("Delivery method hidden"),
    "delivery_method_moved": lazy_gettext("Delivery method moved"),
    "delivery_method_shown": lazy_gettext("Delivery method shown"),
    "group_changed": lazy_gettext("Group changed"),
    "group_created": lazy_gettext("Group created"),
    "group_retired": lazy_gettext("Group retired"),
    "mail_sent_again": lazy_gettext("Email sent again"),
    "legal_page_changed": lazy_gettext("Legal page changed"),
    "marketplace_import": lazy_gettext("Marketplace orders imported"),
    "marketplace_token_created": lazy_gettext("Marketplace token created"),
    "marketplace_token_replaced": lazy_gettext("Marketplace token replaced"),
    "marketplace_token_revoked": lazy_gettext("Marketplace token revoked"),
    "order_refunded": lazy_gettext("Order refunded"),
    "product_changed": lazy_gettext("Product changed"),
    "product_created": lazy_gettext("Product created"),
    "product_hidden": lazy_gettext("Product hidden"),
    "product_shown": lazy_gettext("Product shown"),
    "refund_paid": lazy_gettext("Refund paid"),
    "refund_refused": lazy_gettext("Refund refused"),
    "refund_request_approved": lazy_gettext("Refund request approved"),
    "refund_request_declined": lazy_gettext("Refund request declined"),
    "refund_started": lazy_gettext("Refund started"),
    "reminder_category_paragraph_changed": lazy_gettext("Reminder paragraph for a category changed"),
    "reminder_settings_changed": lazy_gettext("Reminder settings changed"),
    "reminder_template_changed": lazy_gettext("Reminder wording changed"),
    "settings_changed": lazy_gettext("Shop settings changed"),
    "staff_granted": lazy_gettext("Staff access given"),
    "staff_revoked": lazy_gettext("Staff access removed"),
    "translation_changed": lazy_gettext("Text in another language changed"),
}


# Targets the shop names itself (the others are what the owner named: a product, a customer).
TARGETS = {
    "shop settings": lazy_gettext("shop settings"),
    "payment reminders": lazy_gettext("payment reminders"),
    **{f"legal page {key}": title for key, title in LEGAL_PAGES.items()},
}


# Targets the shop wrote as "<kind> <id>" (models' audit calls): the kind in the page's language.
NUMBERED_TARGETS = {
    "customer": lazy_gettext("customer %(id)s"),
    "user": lazy_gettext("user %(id)s"),
    "order": lazy_gettext("order %(id)s"),
    "product": lazy_gettext("product %(id)s"),
    "category": lazy_gettext("category %(id)s"),
    "group": lazy_gettext("group %(id)s"),
    "delivery method": lazy_gettext("delivery method %(id)s"),
    "marketplace import": lazy_gettext("marketplace import %(id)s"),
}
NUMBERED = re.compile(r"(?P<kind>[a-z ]+?) (?P<id>\d+)(?P<rest>.*)")


def target_label(target):
    if target in TARGETS:
        return str(TARGETS[target])
    numbered = NUMBERED.fullmatch(target or "")
    if numbered and numbered["kind"] in NUMBERED_TARGETS:
        return NUMBERED_TARGETS[numbered["kind"]] % {"id": numbered["id"]} + numbered["rest"]
    return target


def action_label(key):
    return str(ACTIONS[key]) if key in ACTIONS else key.replace("_", " ")


@bp.get("")
@owner_required
def index():
    page, entries = uncounted_page(recent_entries, PAGE_SIZE)
    return render(
        "admin/audit/index.html",
        entries=entries,
        page=page,
        action_label=action_label,
        target_label=target_label,
    )
