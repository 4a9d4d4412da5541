"""Every report by name, with its title: what the reports pages and CSVs offer."""

from models.reports.credit import credit
from models.reports.deposits import deposits
from models.reports.order_value import order_value
from models.reports.reminders import reminders
from models.reports.roll_forward import roll_forward
from models.reports.sales import sales
from models.reports.usage import usage

REPORTS = {
    "sales": sales,
    "deposits": deposits,
    "roll-forward": roll_forward,
    "usage": usage,
    "order-value": order_value,
    "credit": credit,
    "reminders": reminders,
}


REPORT_TITLES = {
    "sales": "Sales",
    "deposits": "Deposits",
    "roll-forward": "Funds roll-forward",
    "usage": "How orders are paid",
    "order-value": "Order value",
    "credit": "Credit",
    "reminders": "Reminders",
}
