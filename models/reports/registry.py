"""Every report by name, with its title: what the reports pages and CSVs offer."""

from flask_babel import lazy_gettext

from models.reports.credit import credit
from models.reports.deposits import deposits
from models.reports.order_value import order_value
from models.reports.reminders import reminders
from models.reports.roll_forward import roll_forward
from models.reports.sales import sales
from models.reports.usage import usage
from models.reports.vat import vat

REPORTS = {
    "sales": sales,
    "vat": vat,
    "deposits": deposits,
    "roll-forward": roll_forward,
    "usage": usage,
    "order-value": order_value,
    "credit": credit,
    "reminders": reminders,
}


REPORT_TITLES = {
    "sales": lazy_gettext("Sales"),
    "vat": lazy_gettext("VAT"),
    "deposits": lazy_gettext("Deposits"),
    "roll-forward": lazy_gettext("Funds roll-forward"),
    "usage": lazy_gettext("How orders are paid"),
    "order-value": lazy_gettext("Order value"),
    "credit": lazy_gettext("Credit"),
    "reminders": lazy_gettext("Reminders"),
}
