"""Marketplace orders sent as JSON to the import API: the fields, an example, reading the body."""

import json

from flask_babel import lazy_gettext

from models.marketplace.importing import run_import
from models.marketplace.results import RawItem
from models.marketplace.results import RawOrder
from models.orders.order import ADDRESS_PARTS
from models.users.security_log import NO_CLIENT

MAX_API_BYTES = 1_000_000


MAX_API_ORDERS = 500


JSON_ORDER_FIELDS = {"channel", "order_ref", "ordered_at", "currency", "customer", "shipping_address",
                     "billing_address", "lines", "shipping_cost", "total"}  # fmt: skip


JSON_CUSTOMER_FIELDS = {"email", "first_name", "last_name", "phone"}


JSON_LINE_FIELDS = {"product_slug", "name", "quantity", "unit_price"}


JSON_LABELS = {
    "channel": "channel",
    "order_ref": "order_ref",
    "ordered_at": "ordered_at",
    "currency": "currency",
    "email": "customer.email",
    "first_name": "customer.first_name",
    "last_name": "customer.last_name",
    "phone": "customer.phone",
    **{f"shipping.{part}": f"shipping_address.{part}" for part in ADDRESS_PARTS},
    **{f"billing.{part}": f"billing_address.{part}" for part in ADDRESS_PARTS},
    "shipping_cost": "shipping_cost",
    "total": "total",
    "product_slug": "product_slug",
    "name": "name",
    "quantity": "quantity",
    "unit_price": "unit_price",
}


JSON_EXAMPLE = {
    "orders": [
        {
            "channel": "amazon",
            "order_ref": "204-5550123-1234567",
            "ordered_at": "2026-05-01T09:15:00Z",
            "currency": "EUR",
            "customer": {
                "email": "jane.doe@example.com",
                "first_name": "Jane",
                "last_name": "Doe",
                "phone": "",
            },
            "shipping_address": {
                "name": "Jane Doe",
                "company": "",
                "line1": "12 Market Street",
                "line2": "Flat 3",
                "city": "Bristol",
                "region": "",
                "postal_code": "BS1 4DJ",
                "country": "GB",
                "phone": "+44 117 496 0000",
            },
            "billing_address": None,
            "lines": [
                {
                    "product_slug": "house-blend-250g",
                    "name": "House blend, 250 g",
                    "quantity": 2,
                    "unit_price": "9.50",
                },
                {"name": "Gift wrapping", "quantity": 1, "unit_price": "0.00"},
            ],
            "shipping_cost": "3.95",
            "total": "22.95",
        }
    ]
}


class BadRequest(Exception):
    """The request as a whole can't be read; the message says why (HTTP 400, or 413 when too big)."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def read_json(body):
    """The raw orders of an API request body (bytes). Raises BadRequest."""
    if len(body) > MAX_API_BYTES:
        raise BadRequest(
            f"The body is larger than {MAX_API_BYTES:,} bytes; send fewer orders per request.", 413
        )
    try:
        payload = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise BadRequest("The body isn't UTF-8 text.") from None
    except json.JSONDecodeError as error:
        raise BadRequest(
            f"The body isn't valid JSON: {error.msg} at line {error.lineno} column {error.colno}."
        ) from None
    except RecursionError:
        raise BadRequest("The body is nested too deeply.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("orders"), list):
        raise BadRequest('The body must be a JSON object with a list of orders: {"orders": [ … ]}.')
    orders = payload["orders"]
    if not orders:
        raise BadRequest('"orders" is empty: send at least one order.')
    if len(orders) > MAX_API_ORDERS:
        raise BadRequest(f"{len(orders)} orders in one request; send at most {MAX_API_ORDERS}.", 413)
    return [_json_order(index, entry) for index, entry in enumerate(orders)]


def _json_order(index, entry):
    raw = RawOrder(labels=JSON_LABELS, index=index)
    if not isinstance(entry, dict):
        raw.problems.append(lazy_gettext("%(where)s must be an object.", where=f"orders[{index}]"))
        return raw
    unknown = sorted(set(entry) - JSON_ORDER_FIELDS)
    if unknown:
        raw.notes.append(lazy_gettext("Unknown fields ignored: %(fields)s.", fields=", ".join(unknown)[:200]))
    for key in ("channel", "order_ref", "ordered_at", "currency", "shipping_cost", "total"):
        raw.values[key] = entry.get(key)
    customer = _json_object(entry, "customer", JSON_CUSTOMER_FIELDS, raw, required=True)
    for key in JSON_CUSTOMER_FIELDS:
        raw.values[key] = customer.get(key)
    for which, name in (("shipping", "shipping_address"), ("billing", "billing_address")):
        address = _json_object(entry, name, set(ADDRESS_PARTS), raw, required=which == "shipping")
        for part in ADDRESS_PARTS:
            raw.values[f"{which}.{part}"] = address.get(part)
    lines = entry.get("lines")
    if not isinstance(lines, list):
        raw.problems.append(lazy_gettext("%(where)s: must be a list of the order's items.", where="lines"))
        return raw
    for position, line in enumerate(lines):
        where = f"lines[{position}]"
        if not isinstance(line, dict):
            raw.problems.append(lazy_gettext("%(where)s: must be an object.", where=where))
            continue
        unknown = sorted(set(line) - JSON_LINE_FIELDS)
        if unknown:
            raw.notes.append(
                lazy_gettext(
                    "%(where)s: unknown fields ignored: %(fields)s.",
                    where=where,
                    fields=", ".join(unknown)[:200],
                )
            )
        raw.items.append(RawItem(where=where, values={key: line.get(key) for key in JSON_LINE_FIELDS}))
    return raw


def _json_object(entry, name, fields, raw, required):
    value = entry.get(name)
    if value is None:
        if required:
            raw.problems.append(lazy_gettext("%(label)s: missing.", label=name))
        return {}
    if not isinstance(value, dict):
        raw.problems.append(lazy_gettext("%(where)s: must be an object.", where=name))
        return {}
    unknown = sorted(set(value) - fields)
    if unknown:
        raw.notes.append(
            lazy_gettext(
                "%(where)s: unknown fields ignored: %(fields)s.", where=name, fields=", ".join(unknown)[:200]
            )
        )
    return value


def import_json(body, now=None, client=NO_CLIENT):
    """Import the orders of an API request body; returns the ImportReport. Raises BadRequest."""
    return run_import(read_json(body), actor=None, source="api", now=now, client=client)
