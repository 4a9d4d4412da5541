"""Marketplace orders from a CSV file: the columns, the example file, reading rows into orders."""

import csv
import io
import re

from babel.numbers import format_decimal
from flask_babel import gettext
from flask_babel import lazy_gettext

from models.marketplace.checking import WHITESPACE
from models.marketplace.importing import run_import
from models.marketplace.results import ImportReport
from models.marketplace.results import RawItem
from models.marketplace.results import RawOrder
from models.orders.order import ADDRESS_PARTS
from models.shop.language import active_locale
from models.users.security_log import NO_CLIENT

# Limits: an upload or request beyond them is refused with a message, never half-read.
MAX_UPLOAD_BYTES = 1_000_000


MAX_CSV_ROWS = 5_000


# Column -> internal key. Order columns repeat on every row of an order (or stay empty after
# the first); item columns describe the row's line.
ORDER_COLUMNS = {
    "channel": "channel",
    "order_ref": "order_ref",
    "ordered_at": "ordered_at",
    "currency": "currency",
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "phone": "phone",
    **{f"shipping_{part}": f"shipping.{part}" for part in ADDRESS_PARTS},
    **{f"billing_{part}": f"billing.{part}" for part in ADDRESS_PARTS},
    "shipping_cost": "shipping_cost",
    "order_total": "total",
}


ITEM_COLUMNS = {
    "product_slug": "product_slug",
    "item_name": "name",
    "quantity": "quantity",
    "unit_price": "unit_price",
}


CSV_LABELS = {key: column for column, key in {**ORDER_COLUMNS, **ITEM_COLUMNS}.items()}


REQUIRED_COLUMNS = (
    "channel",
    "order_ref",
    "email",
    "shipping_name",
    "shipping_line1",
    "shipping_city",
    "shipping_country",
    "quantity",
    "unit_price",
)


# (column, required, what it holds) for the import page.
CSV_COLUMN_HELP = [
    (
        "channel",
        True,
        lazy_gettext("The marketplace's short name in lowercase: amazon, ebay, etsy, amazon-de…"),
    ),
    (
        "order_ref",
        True,
        lazy_gettext(
            "The marketplace's order number. Repeat it on every row of an order with several items."
        ),
    ),
    (
        "ordered_at",
        False,
        lazy_gettext(
            "When the customer ordered, like 2026-05-01T14:30:00Z. Without an offset it is shop time. Empty: the import time."
        ),
    ),
    (
        "email",
        True,
        lazy_gettext(
            "The customer's email. Links the order to the customer with that email, or opens a new account for them."
        ),
    ),
    (
        "first_name, last_name",
        False,
        lazy_gettext("The customer's name for a new account; empty: taken from shipping_name."),
    ),
    ("phone", False, lazy_gettext("The customer's phone for a new account.")),
    (
        "shipping_name, shipping_line1, shipping_city, shipping_country",
        True,
        lazy_gettext("The delivery address. Country as a two-letter code, like GB."),
    ),
    (
        "shipping_company, shipping_line2, shipping_region, shipping_postal_code, shipping_phone",
        False,
        lazy_gettext("The rest of the delivery address."),
    ),
    (
        "billing_name, billing_line1, … billing_phone",
        False,
        lazy_gettext("The billing address, with the same parts. Empty: the delivery address."),
    ),
    (
        "product_slug",
        False,
        lazy_gettext(
            "The web address of the product in this shop (the end of /p/…). Its stock goes down by the quantity."
        ),
    ),
    (
        "item_name",
        False,
        lazy_gettext("The item as the marketplace sold it. Needed when there is no product_slug."),
    ),
    ("quantity", True, lazy_gettext("How many, a whole number.")),
    (
        "unit_price",
        True,
        lazy_gettext("The price of one, as charged on the marketplace, like 12.50 (no currency sign)."),
    ),
    ("shipping_cost", False, lazy_gettext("What the customer paid for delivery; once per order.")),
    (
        "order_total",
        False,
        lazy_gettext("What the customer paid in all; when given, it must equal the items plus shipping."),
    ),
    ("currency", False, lazy_gettext("When given, it must be the shop's currency.")),
]


# The downloadable example: two rows make one Amazon order (the second only adds an item).
EXAMPLE_CSV = """\
channel,order_ref,ordered_at,email,first_name,last_name,phone,shipping_name,shipping_company,\
shipping_line1,shipping_line2,shipping_city,shipping_region,shipping_postal_code,shipping_country,\
shipping_phone,product_slug,item_name,quantity,unit_price,shipping_cost,order_total
amazon,204-5550123-1234567,2026-05-01T09:15:00Z,jane.doe@example.com,Jane,Doe,,Jane Doe,,\
12 Market Street,Flat 3,Bristol,,BS1 4DJ,GB,+44 117 496 0000,house-blend-250g,"House blend, 250 g",\
2,9.50,3.95,22.95
amazon,204-5550123-1234567,,,,,,,,,,,,,,,,Gift wrapping,1,0.00,,
ebay,12-34567-89012,2026-05-02 18:40,sam@example.org,,,,Sam Green,Green & Co,4 Harbour Road,,Leith,\
Edinburgh,EH6 6AA,GB,,ethiopia-guji-250g,,1,13.50,,
"""


def example_csv():
    """The downloadable example (UTF-8 with a byte-order mark, so Excel reads it right)."""
    return "\ufeff" + EXAMPLE_CSV.replace("\n", "\r\n")


def _header_name(cell):
    return re.sub(r"[\s-]+", "_", cell.strip().lower())


def _delimiter(first_line):
    """Comma, semicolon (spreadsheets in many European locales) or tab (marketplace reports)."""
    known = set(ORDER_COLUMNS) | set(ITEM_COLUMNS)

    def hits(delimiter):
        return sum(1 for cell in first_line.split(delimiter) if _header_name(cell.strip('"')) in known)

    return max((",", ";", "\t"), key=hits)


def read_csv(data):
    """(raw orders, report) from an uploaded file; the report holds file errors and notices."""
    report = ImportReport()
    if not data:
        report.file_errors.append(gettext("The file is empty."))
        return [], report
    if len(data) > MAX_UPLOAD_BYTES:
        report.file_errors.append(
            gettext(
                "The file is larger than %(megabytes)d MB. Split it into smaller files and upload them one "
                "by one (orders already imported are skipped).",
                megabytes=MAX_UPLOAD_BYTES // 1_000_000,
            )
        )
        return [], report
    if b"\x00" in data:
        report.file_errors.append(
            gettext(
                "This isn't a CSV file: it holds binary data. Export the orders as CSV and upload that file."
            )
        )
        return [], report
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        report.file_errors.append(
            gettext(
                "The file isn't UTF-8 text (at byte %(byte)d). Save it as “CSV UTF-8” (Excel) or with the "
                "Unicode (UTF-8) character set, and upload it again.",
                byte=error.start + 1,
            )
        )
        return [], report
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    position = {"end": 0}  # where the last whole record ended, for the message below
    try:
        return _read_rows(reader, report, position)
    except csv.Error as error:
        why = str(error)  # Python's own words
        if "field larger than field limit" in why:
            why = gettext("a value runs on for more than 131,072 characters: is a quotation mark left open?")
        report.file_errors.append(
            gettext(
                "Line %(line)d can't be read as CSV (%(why)s). Nothing was imported.",
                line=position["end"] + 1,
                why=why,
            )
        )
        return [], report


def _read_rows(reader, report, position):
    header, header_line = None, 0
    for row in reader:
        if any(cell.strip() for cell in row):
            header, header_line = [_header_name(cell) for cell in row], reader.line_num
            break
    if header is None:
        report.file_errors.append(gettext("The file has no rows."))
        return [], report
    known = {**ORDER_COLUMNS, **ITEM_COLUMNS}
    if not any(name in known for name in header):
        report.file_errors.append(
            gettext(
                "Line %(line)d must name the columns (channel, order_ref, email, …). Download the example "
                "file to see the layout.",
                line=header_line,
            )
        )
        return [], report
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        report.file_errors.append(
            gettext("These columns appear more than once: %(columns)s.", columns=", ".join(duplicates))
        )
        return [], report
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if "item_name" not in header and "product_slug" not in header:
        missing.append(gettext("item_name or product_slug"))
    if missing:
        report.file_errors.append(
            gettext(
                "These columns are missing: %(columns)s. Nothing was imported.", columns=", ".join(missing)
            )
        )
        return [], report
    ignored = [name for name in header if name and name not in known]
    if ignored:
        report.notices.append(gettext("These columns were ignored: %(columns)s.", columns=", ".join(ignored)))

    orders = {}  # (channel, order_ref) -> RawOrder, in the order they first appear
    loose = []  # rows that can't be put with an order: each is rejected on its own
    rows = 0
    end = position["end"] = reader.line_num
    for row in reader:
        start, end = end + 1, reader.line_num
        position["end"] = end
        if not any(cell.strip() for cell in row):
            continue
        rows += 1
        if rows > MAX_CSV_ROWS:
            report.file_errors.append(
                gettext(
                    "The file has more than %(rows)s rows. Split it into smaller files. Nothing was imported.",
                    rows=format_decimal(MAX_CSV_ROWS, locale=active_locale()),
                )
            )
            return [], report
        line = start
        if len(row) > len(header):
            bad = RawOrder(labels=CSV_LABELS, lines=[line])
            bad.values = {
                ORDER_COLUMNS[c]: v
                for c, v in zip(header, row, strict=False)
                if c in ("channel", "order_ref")
            }
            bad.problems.append(
                lazy_gettext(
                    "line %(line)d has %(values)d values but line %(header_line)d names %(columns)d columns. "
                    "Is there a comma inside a value that isn't in quotes?",
                    line=line,
                    values=len(row),
                    header_line=header_line,
                    columns=len(header),
                )
            )
            loose.append(bad)
            continue
        cells = dict(zip(header, row, strict=False))  # a short row: the rest are empty
        key = (
            WHITESPACE.sub(" ", cells.get("channel", "")).strip().lower(),
            WHITESPACE.sub(" ", cells.get("order_ref", "")).strip(),
        )
        if not key[0] or not key[1]:
            bad = RawOrder(labels=CSV_LABELS, lines=[line])
            bad.values = {"channel": cells.get("channel", ""), "order_ref": cells.get("order_ref", "")}
            loose.append(bad)  # identify() says what is missing
            continue
        raw = orders.get(key)
        if raw is None:
            raw = orders[key] = RawOrder(labels=CSV_LABELS)
        _add_row(raw, line, cells)
    return list(orders.values()) + loose, report


def _add_row(raw, line, cells):
    """One CSV row into its order: order columns from the first row that fills them, plus its item."""
    raw.lines.append(line)
    for column, key in ORDER_COLUMNS.items():
        value = (cells.get(column) or "").strip()
        if not value:
            continue
        first = raw.values.get(key)
        if first is None:
            raw.values[key] = value
            raw.first_lines[key] = line
        elif WHITESPACE.sub(" ", first) != WHITESPACE.sub(" ", value):
            raw.problems.append(
                lazy_gettext(
                    "line %(line)d: %(column)s differs from line %(first_line)d. The rows of one order must agree "
                    "(or leave it empty after the first row).",
                    line=line,
                    column=column,
                    first_line=raw.first_lines[key],
                )
            )
    item = {key: cells.get(column, "") for column, key in ITEM_COLUMNS.items()}
    if any((value or "").strip() for value in item.values()):
        raw.items.append(RawItem(where=lazy_gettext("line %(number)d", number=line), values=item))


def import_csv(data, filename="", actor=None, now=None, client=NO_CLIENT):
    """Read and import an uploaded CSV file; returns the ImportReport."""
    raw_orders, report = read_csv(data)
    if report.file_errors:
        return report
    if not raw_orders:
        report.file_errors.append(gettext("The file has a header line but no orders."))
        return report
    return run_import(raw_orders, actor, "csv", filename, report, now, client)
