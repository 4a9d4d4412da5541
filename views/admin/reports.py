"""The owner's reports under /admin/reports: filtered figures, a chart, a table and its CSV.

Staff and the owner see them (they change nothing). The filters live in the
URL, so a report can be bookmarked; the CSV link carries the same filters and
holds exactly the rows of the table. A filter change made with htmx swaps only
the report's body and shows a progress bar meanwhile.
"""

from decimal import Decimal

import babel
from babel.numbers import format_currency
from babel.numbers import format_decimal
from babel.numbers import get_currency_precision
from flask import abort
from flask import Blueprint
from flask import make_response
from flask import request
from flask import url_for
from flask_babel import gettext
from flask_babel import lazy_gettext

from forms.reports import ReportFilterForm
from models.reports.registry import REPORT_TITLES
from models.reports.registry import REPORTS
from models.shop.language import active_locale
from models.shop.settings import shop_today
from models.users.user import User
from views.admin import charts
from views.downloads import csv_download
from views.downloads import spreadsheet_text
from views.formatting import grouped
from views.formatting import money
from views.rendering import is_htmx
from views.rendering import render
from views.settings import shop_settings

bp = Blueprint("reports", __name__, url_prefix="/reports")

DESCRIPTIONS = {
    "sales": lazy_gettext(
        "Orders by the day they were paid, even if cancelled or refunded later: goods, delivery, funds "
        "discount, refunds on the day they were made, net sales and how the orders were paid."
    ),
    "vat": lazy_gettext(
        "Sales per VAT rate with their base and VAT, refunds taken off on the day they were made: "
        "for the VAT return. Top-ups are not sales."
    ),
    "deposits": lazy_gettext(
        "Top-ups: how many, how much and the average, per day, week or month; bonuses apart."
    ),
    "roll-forward": lazy_gettext(
        "Opening balance, every kind of movement and the closing balance, checked against the ledger."
    ),
    "usage": lazy_gettext(
        "How much of the order value was paid with funds, with credit and other ways; the funds discount."
    ),
    "order-value": lazy_gettext(
        "Average and median order with and without funds, and when the discount or top-up minimum changed."
    ),
    "credit": lazy_gettext(
        "Credit drawn and paid back, what is owed against the limits, credit requests decided."
    ),
    "reminders": lazy_gettext(
        "Reminders sent, orders paid within 48 hours and the money, by customer segment and dispatch window."
    ),
}
# How the period's days are grouped, after its dates ("1 Dec – 7 Dec · by day").
BUCKET_PHRASES = {
    "day": lazy_gettext("by day"),
    "week": lazy_gettext("by week"),
    "month": lazy_gettext("by month"),
}


@bp.get("")
def index():
    return render("admin/reports/index.html", titles=REPORT_TITLES, descriptions=DESCRIPTIONS)


def report_or_404(key):
    if key not in REPORTS:
        abort(404)
    return REPORTS[key]


@bp.get("/<key>")
def show(key):
    report_function = report_or_404(key)
    form = ReportFilterForm(request.args)
    scope, notes = form.scope(shop_today())
    context = {
        "key": key,
        "title": REPORT_TITLES[key],
        "form": form,
        "notes": notes,
        "titles": REPORT_TITLES,
        "out_of_band": is_htmx(),  # the fragment brings the report menu with the new filters too
        "filter_args": form.filter_args(),
    }
    if scope is None:
        return render("admin/reports/report.html", fragment="admin/reports/_body.html", status=422, **context)
    report = report_function(scope)
    context.update(
        report=report,
        scope=scope,
        customer=User.get_by_id(scope.customer_id) if scope.customer_id else None,
        drawing=_drawing(report),
        csv_url=url_for(".download", key=key, **form.filter_args()),
        format_cell=format_cell,
        bucket_labels=BUCKET_PHRASES,
    )
    return render("admin/reports/report.html", fragment="admin/reports/_body.html", **context)


@bp.get("/<key>.csv")
def download(key):
    report_function = report_or_404(key)
    form = ReportFilterForm(request.args)
    scope, _ = form.scope(shop_today())
    if scope is None:
        problems = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return make_response(
            gettext("These filters cannot be used: %(problems)s", problems=problems) + "\n",
            422,
            {"Content-Type": "text/plain; charset=utf-8"},
        )
    report = report_function(scope)
    # The table's rows (and its totals row, if any) under its column labels, money as plain
    # decimals (12.50).
    rows = report.rows + [totals] if (totals := getattr(report, "totals", None)) else report.rows
    return csv_download(
        f"{key}-{scope.first.isoformat()}-{scope.last.isoformat()}.csv",
        [column.label for column in report.columns],
        ([csv_value(row[column.key], column.kind) for column in report.columns] for row in rows),
    )


def csv_value(value, kind):
    if value is None:
        return ""
    if kind == "text":
        return spreadsheet_text(str(value))
    if kind == "money":
        return str(Decimal(value).scaleb(-get_currency_precision(shop_settings().currency)))
    return value


def format_cell(value, kind):
    """A figure as the table shows it."""
    if value is None:
        return "–"
    if kind == "money":
        return money(value)
    if kind == "percent":
        # A percentage as the language writes it ("12.5 %", « 12,5 % » with a no-break space).
        return gettext("%(number)s %%", number=format_decimal(value, "#,##0.0", locale=active_locale()))
    if kind == "count":
        return grouped(value)
    return value


def _format_tick(value, kind):
    if kind == "count":
        return format_decimal(value, "#,##0.#", locale=active_locale())
    settings = shop_settings()
    units = Decimal(int(value)).scaleb(-get_currency_precision(settings.currency))
    # The language's own currency pattern without decimals: "€50" in English, "50 €" in French.
    pattern = babel.Locale.parse(active_locale()).currency_formats["standard"].pattern
    whole = pattern.split(";")[0].replace(".00", "")
    return format_currency(units, settings.currency, whole, locale=active_locale(), currency_digits=False)


def _drawing(report):
    chart = report.chart
    if chart is None:
        return None
    kind = chart.kind
    if report.key == "roll-forward":
        return charts.bars(chart, lambda value: format_cell(value, kind))
    return charts.columns(
        chart, lambda value: format_cell(value, kind), lambda value: _format_tick(value, kind)
    )
