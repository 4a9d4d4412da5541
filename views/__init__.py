"""Blueprints, request wiring and template helpers."""

from flask import g
from flask_login import current_user

from models.base import db
from models.funds.adjustments import pending_adjustment_count
from models.funds.credit_requests import pending_credit_count
from models.groups.applications import pending_count
from models.groups.group import group_of
from payments import sandbox
from views import account
from views import admin
from views import admin_catalog
from views import admin_credit
from views import admin_customers
from views import admin_funds
from views import admin_groups
from views import admin_import
from views import admin_orders
from views import admin_reminders
from views import admin_reports
from views import api
from views import auth
from views import checkout
from views import credit
from views import errors
from views import formatting
from views import funds
from views import health
from views import inbox
from views import membership
from views import orders
from views import register
from views import reminders
from views import request_log
from views import security
from views import storefront
from views.settings import shop_settings

BLUEPRINTS = (
    storefront.bp,
    auth.bp,
    register.bp,
    inbox.bp,
    account.bp,
    admin.bp,
    health.bp,
    admin_customers.bp,
    admin_groups.bp,
    membership.bp,
    funds.bp,
    sandbox.bp,
    credit.bp,
    admin_funds.bp,
    admin_credit.bp,
    admin_catalog.bp,
    checkout.bp,
    orders.bp,
    admin_orders.bp,
    admin_import.bp,
    admin_reminders.bp,
    admin_reports.bp,
    api.bp,
    reminders.bp,
)


def init_app(app):
    request_log.init_app(app)
    app.before_request(open_database)
    app.teardown_request(close_database)
    security.init_app(app)
    errors.init_app(app)
    formatting.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)

    @app.context_processor
    def shop_context():
        return {
            "shop": shop_settings(),
            "awaiting_approval": awaiting_approval,
            "current_group": current_group,
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
    return pending_count() + pending_credit_count() + pending_adjustment_count()


def current_group():
    """The signed-in customer's group, read fresh (a decision shows on the next page)."""
    return group_of(current_user)
