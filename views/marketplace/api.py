"""Machine endpoints: POST /api/marketplace/orders imports marketplace orders sent as JSON.

Authenticated by `Authorization: Bearer <token>` (the owner creates the token on
/admin/orders/import), so it is exempt from CSRF, which protects browser forms. Every answer is
JSON: 200 with a result per order (imported / already_imported / rejected with reasons), 401
without a valid token, 400 for a body that isn't the documented JSON, 413 when it is too big.
"""

from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import request
from peewee import OperationalError
from werkzeug.exceptions import HTTPException

from models.marketplace.api_token import check_token
from models.marketplace.json_api import BadRequest
from models.marketplace.json_api import import_json
from models.marketplace.json_api import MAX_API_BYTES
from views.security import csrf
from views.security import request_client

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)


def error(status, message, **headers):
    response = jsonify({"error": message})
    response.status_code = status
    response.headers.update(headers)
    return response


def bearer_token():
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@bp.post("/marketplace/orders")
def marketplace_orders():
    if check_token(bearer_token()) is None:
        return error(
            401,
            "A valid API token is needed: send it as 'Authorization: Bearer <token>'.",
            **{"WWW-Authenticate": 'Bearer realm="shop", error="invalid_token"'},
        )
    request.max_content_length = MAX_API_BYTES
    try:
        report = import_json(request.get_data(cache=False), client=request_client())
    except BadRequest as bad:
        return error(bad.status, str(bad))
    return jsonify(
        {
            "imported": report.imported,
            "already_imported": report.already_imported,
            "rejected": report.rejected,
            "orders": [result.for_api() for result in report.results],
        }
    )


@bp.errorhandler(HTTPException)
def http_error(exc):
    if exc.code == 413:
        return error(413, f"The body is larger than {MAX_API_BYTES:,} bytes; send fewer orders per request.")
    return error(exc.code or 500, exc.description or exc.name)


@bp.errorhandler(OperationalError)
def database_error(exc):
    message = str(exc).lower()
    if "locked" in message or "busy" in message:
        return error(
            503,
            "The shop is very busy. Send the same request again in a few seconds.",
            **{"Retry-After": "5"},
        )
    return unexpected_error(exc)


@bp.errorhandler(Exception)
def unexpected_error(exc):
    current_app.logger.exception("marketplace API error")
    return error(
        500,
        "Something went wrong on our side. Orders saved before it stay saved: send the same request "
        "again and they are answered as already_imported.",
    )
