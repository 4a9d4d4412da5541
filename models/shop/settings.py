"""The shop's own settings: one row, edited by the owner, seeded from the environment.

The row is saved once, by `flask migrate` on the shop's first run (`seed_settings`, called by
models/operations/migrate.py), from that command's environment. Everything else only reads it:
`load_settings()` never writes, so a read-only command or a page works behind any writer and
never takes its values from whichever shell happens to call it.
"""

import datetime
import os
import zoneinfo

from flask_babel import lazy_gettext
from peewee import BooleanField
from peewee import CharField
from peewee import DateTimeField
from peewee import IntegerField
from peewee import TextField

from models.base import BaseModel
from models.base import Followers
from models.base import utcnow
from models.base import write_transaction
from models.shop.audit import audit_changes

# Environment variable -> (field, default). The environment only seeds the
# first run; afterwards the owner's settings page is the source of truth. The shop's public
# address is not among them: it is configuration (SHOP_BASE_URL), read on every start
# (models/shop/mail.public_url).
ENV_DEFAULTS = {
    "SHOP_NAME": ("shop_name", "Demo Shop"),
    "SHOP_CONTACT_EMAIL": ("contact_email", "hello@demo.shop"),
    "SHOP_CONTACT_PHONE": ("contact_phone", ""),
    "SHOP_COUNTRY": ("country", "GB"),
    "SHOP_LOCALE": ("locale", "en_GB"),
    "SHOP_TIMEZONE": ("timezone", "Europe/London"),
    "SHOP_CURRENCY": ("currency", "EUR"),
}


# The owner's choice of emails about new orders, in the words of the settings page (the key is
# what is stored; the words are read in the page's language).
NEW_ORDER_EMAILS = {
    "each": lazy_gettext("An email for each new order"),
    "daily": lazy_gettext("One email a day, listing the previous day's new orders"),
    "none": lazy_gettext("No emails about new orders"),
}


# How prices carry VAT, in the words of the settings page. "not_applicable": a shop under the
# VAT exemption threshold (France: art. 293 B du CGI) charges none.
VAT_INCLUDED = "included"
VAT_NOT_APPLICABLE = "not_applicable"
VAT_MODES = {
    VAT_INCLUDED: lazy_gettext("VAT included in prices"),
    VAT_NOT_APPLICABLE: lazy_gettext("VAT not applicable (art. 293 B du CGI)"),
}


class ShopSettings(BaseModel):
    shop_name = CharField()
    # A short line under the shop's name on the home page ("" shows none).
    tagline = CharField(default="")
    contact_email = CharField()
    contact_phone = CharField(default="")
    country = CharField(max_length=2)
    locale = CharField()
    timezone = CharField()
    currency = CharField(max_length=3)
    bank_account_name = CharField(default="")
    bank_iban = CharField(default="")
    bank_bic = CharField(default="")
    bank_details_note = TextField(default="")
    # Staff may approve money changes up to this many minor units; above it only the owner.
    staff_money_limit = IntegerField(default=5000)
    # Credited once when a self-registered customer confirms their email; 0 = off.
    signup_bonus = IntegerField(default=0)
    # Funds defaults; a group with its own limits overrides them (models/groups/).
    topup_min = IntegerField(default=1000)
    topup_max = IntegerField(default=100000)
    default_credit_limit = IntegerField(default=0)
    # Debt on a monthly statement is due this many days after the statement.
    credit_terms_days = IntegerField(default=30)
    # Unpaid orders are cancelled this many hours after they were placed (jobs/orders.py).
    auto_cancel_hours = IntegerField(default=72)
    # The owner's emails about new shop orders: NEW_ORDER_EMAILS (models/orders/owner_emails.py).
    new_order_emails = CharField(default="each")
    # VAT (models/orders/vat.py): VAT_MODES; and the owner's statement that sales to consumers in
    # other EU countries stay under the EU distance-selling threshold (the shop's VAT applies).
    vat_mode = CharField(default="included")
    vat_distance_selling_under_threshold = BooleanField(default=False)
    # The seller's legal identity on invoices and credit notes (migration 0039; "" = not given).
    legal_name = TextField(default="")  # the registered name; the shop's name when ""
    legal_address = TextField(default="")  # lines, as on an envelope
    company_number = TextField(default="")  # SIREN or SIRET in France, Companies House number in the UK
    vat_number = TextField(default="")
    legal_mentions = TextField(default="")  # legal form, share capital, register (RCS), as one line
    updated_at = DateTimeField(default=utcnow)
    revision = IntegerField(default=1)

    class Meta:
        table_name = "shop_settings"

    @property
    def charges_vat(self):
        """Prices include VAT (else "VAT not applicable, art. 293 B du CGI")."""
        return self.vat_mode == VAT_INCLUDED

    @property
    def tz(self):
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def takes_bank_transfers(self):
        """Bank transfer is offered only once the owner has published the account to pay into."""
        return bool(self.bank_iban.strip())


def defaults_from_environment(environ=None):
    environ = os.environ if environ is None else environ
    return {field: environ.get(var) or default for var, (field, default) in ENV_DEFAULTS.items()}


class SettingsMissing(RuntimeError):
    """The database has no settings row: `flask --app shop migrate` has not run on it."""


def load_settings():
    """The settings row. Reads only: `seed_settings` saved it on the first `flask migrate`."""
    settings = ShopSettings.get_or_none(ShopSettings.id == 1)
    if settings is None:
        raise SettingsMissing("The shop's settings are not in the database: run `flask --app shop migrate`.")
    return settings


def seed_settings(environ=None):
    """Save the settings row from the environment, unless it is there (the shop's first run);
    returns True when it saved it. Writes only then: an existing row is never touched."""
    if ShopSettings.select().where(ShopSettings.id == 1).exists():
        return False
    with write_transaction():
        if ShopSettings.select().where(ShopSettings.id == 1).exists():
            return False
        ShopSettings.create(id=1, **defaults_from_environment(environ))
    return True


# Credit limits follow the shop's default limit (models/reactions.py connects them).
settings_changed = Followers("the owner changed settings: settings_changed(changed_fields)")


def update_settings(changes, actor=None):
    """Apply the owner's changes in one write (audited); returns the fresh row."""
    with write_transaction():
        current = ShopSettings.get_by_id(1)
        changed = audit_changes(actor, "settings_changed", "shop settings", current, changes)
        (
            ShopSettings.update(**changes, updated_at=utcnow(), revision=ShopSettings.revision + 1)
            .where(ShopSettings.id == 1)
            .execute()
        )
        settings_changed(changed)
    return ShopSettings.get_by_id(1)


def shop_today(now=None):
    """The shop's date at `now` (aware, or naive UTC as stored; default: now)."""
    moment = now or datetime.datetime.now(datetime.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(load_settings().tz).date()
