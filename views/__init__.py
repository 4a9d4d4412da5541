"""Blueprints, request wiring and template helpers."""

from flask import g
from flask_login import current_user

from models.base import db
from models.funds.adjustments import pending_adjustment_count
from models.funds.credit_requests import pending_credit_count
from models.groups.applications import pending_count
from models.groups.group import group_of
from models.refunds.requests import pending_refund_request_count
from models.shop.legal import PAGES as LEGAL_PAGES
from models.withdrawals.refunds import pending_withdrawal_count
from payments import mode as payment_mode
from payments.sandbox import bp as sandbox_bp
from payments.stripe import bp as stripe_bp
from views import assets
from views import errors
from views import formatting
from views import language
from views import request_log
from views import security
from views.accounts.account import bp as account_bp
from views.accounts.auth import bp as auth_bp
from views.accounts.inbox import bp as inbox_bp
from views.accounts.register import bp as register_bp
from views.admin import bp as admin_bp
from views.funds.credit import bp as credit_bp
from views.funds.funds import bp as funds_bp
from views.groups.membership import bp as membership_bp
from views.health import bp as health_bp
from views.legal import bp as legal_bp
from views.lookups import IdConverter
from views.marketplace.api import bp as api_bp
from views.orders.checkout import bp as checkout_bp
from views.orders.documents import bp as documents_bp
from views.orders.orders import bp as orders_bp
from views.orders.withdrawal import bp as withdrawal_bp
from views.reminders.unsubscribe import bp as reminders_bp
from views.settings import shop_settings
from views.storefront.storefront import bp as storefront_bp

BLUEPRINTS = (
    storefront_bp,
    auth_bp,
    register_bp,
    inbox_bp,
    account_bp,
    admin_bp,
    health_bp,
    membership_bp,
    funds_bp,
    sandbox_bp,
    stripe_bp,
    credit_bp,
    checkout_bp,
    orders_bp,
    documents_bp,
    api_bp,
    reminders_bp,
    legal_bp,
    withdrawal_bp,
)


def init_app(app):
    app.url_map.converters["id"] = IdConverter  # `<id:…>` in the rules below: ids are read once
    request_log.init_app(app)
    app.before_request(open_database)
    app.teardown_request(close_database)
    security.init_app(app)
    errors.init_app(app)
    formatting.init_app(app)
    language.init_app(app)
    assets.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)

    @app.context_processor
    def shop_context():
        return {
            "shop": shop_settings(),
            "awaiting_approval": awaiting_approval,
            "current_group": current_group,
            # "sandbox" or "test": customer pages say "Test mode" (no real money moves).
            "payment_mode": payment_mode(app.config),
            "legal_pages": LEGAL_PAGES,  # the footer's links
        }


def open_database():
    """Connect for this request (a connection already open, as in tests, is reused)."""
    if db.is_closed():
        db.connect()
        g.opened_database = True


def close_database(exc=None):
    if g.pop("opened_database", False) and not db.is_closed():
        db.close()


def awaiting_approval():
    """How many decisions wait in the Approvals queue (for the admin navigation)."""
    return (
        pending_count()
        + pending_credit_count()
        + pending_refund_request_count()
        + pending_adjustment_count()
        + pending_withdrawal_count()
    )


def current_group():
    """The signed-in customer's group, read fresh (a decision shows on the next page)."""
    return group_of(current_user)
