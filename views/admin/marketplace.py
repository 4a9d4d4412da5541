"""Importing marketplace orders (/admin/orders/import): CSV upload, reports, the API token.

Staff and the owner both import orders (it is day-to-day shop work). The API token is the
owner's: creating or replacing it needs a fresh sign-in (it lets another system add paid
orders and customer accounts), and it is shown once, in the answer to that POST, never
stored or put in the session. Revoking needs no fresh sign-in: stopping access should be easy.
"""

import copy
import json
import re

from flask import abort
from flask import Blueprint
from flask import flash
from flask import url_for
from flask_babel import gettext
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from forms.marketplace import ApiTokenForm
from forms.marketplace import ImportUploadForm
from models.marketplace.api_token import create_token
from models.marketplace.api_token import live_token
from models.marketplace.api_token import revoke_token
from models.marketplace.channels import channel_label
from models.marketplace.csv_upload import CSV_COLUMN_HELP
from models.marketplace.csv_upload import example_csv
from models.marketplace.csv_upload import import_csv
from models.marketplace.csv_upload import MAX_CSV_ROWS
from models.marketplace.csv_upload import MAX_UPLOAD_BYTES
from models.marketplace.json_api import JSON_EXAMPLE
from models.marketplace.json_api import MAX_API_BYTES
from models.marketplace.json_api import MAX_API_ORDERS
from models.marketplace.results import MarketplaceImport
from models.marketplace.results import reason_text
from models.marketplace.results import recent_imports
from models.shop.mail import absolute_url
from models.users.user import User
from views.downloads import csv_file
from views.errors import error_response
from views.lookups import row_or_404
from views.rendering import redirect_after_post
from views.rendering import render
from views.security import fresh_password_required
from views.security import owner_required
from views.security import request_client
from views.settings import shop_settings

bp = Blueprint("marketplace", __name__, url_prefix="/orders/import")

TEMPLATE = "admin/marketplace/import.html"


@bp.app_template_filter("channel_label")
def channel_label_filter(channel):
    return channel_label(channel or "")


@bp.app_template_filter("reason_text")
def reason_text_filter(reason):
    """An import's reason or warning in the page's language (models/marketplace/results.py)."""
    return reason_text(reason)


def actor():
    return current_user._get_current_object()


def import_page(form, report=None, status=200):
    context = {
        "form": form,
        "report": report,
        "columns": CSV_COLUMN_HELP,
        "max_upload_mb": MAX_UPLOAD_BYTES // 1_000_000,
        "max_rows": MAX_CSV_ROWS,
        "recent": recent_imports(),
    }
    if current_user.is_owner:
        context.update(
            token=live_token(),
            api_url=absolute_url("api.marketplace_orders"),
            json_example=json_example(),
            max_api_orders=MAX_API_ORDERS,
            max_api_mb=MAX_API_BYTES // 1_000_000,
        )
    return render(TEMPLATE, status=status, **context)


def json_example():
    """The documented request body, in the shop's own currency."""
    example = copy.deepcopy(JSON_EXAMPLE)
    for order in example["orders"]:
        order["currency"] = shop_settings().currency
    return json.dumps(example, indent=2, ensure_ascii=False)


def upload_name(upload):
    """The uploaded file's own name, without any folder and control characters (for the report)."""
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"[\x00-\x1f\x7f]", "", name)[:200]


@bp.route("", methods=["GET", "POST"])
def index():
    form = ImportUploadForm()
    if not form.is_submitted():
        return import_page(form)
    if not form.validate():
        return import_page(form, status=422)
    upload = form.file.data
    report = import_csv(
        upload.read(MAX_UPLOAD_BYTES + 1), upload_name(upload), actor(), client=request_client()
    )
    if report.batch_id is not None:
        flash(summary(report), "success" if not report.rejected else "error")
        for notice in report.notices:
            flash(notice, "info")
        return redirect_after_post(url_for(".show", batch_id=report.batch_id))
    # Nothing valid: nothing is kept, the form comes back with what was wrong.
    if report.file_errors:
        form.file.errors.extend(report.file_errors)
    else:
        form.file.errors.append(
            gettext(
                "No order in this file could be imported. The report below says why, line by line; "
                "correct the file and upload it again."
            )
        )
    return import_page(form, report=report, status=422)


def summary(report):
    """The import in one sentence: a whole sentence for each case (pieces glued don't translate)."""
    figures = {"imported": report.imported, "already": report.already_imported, "rejected": report.rejected}
    count = len(report.results)
    if report.already_imported and report.rejected:
        return ngettext(
            "%(num)d order in the file: %(imported)d imported, %(already)d already imported before, "
            "%(rejected)d rejected (see why below).",
            "%(num)d orders in the file: %(imported)d imported, %(already)d already imported before, "
            "%(rejected)d rejected (see why below).",
            count,
            **figures,
        )
    if report.already_imported:
        return ngettext(
            "%(num)d order in the file: %(imported)d imported, %(already)d already imported before.",
            "%(num)d orders in the file: %(imported)d imported, %(already)d already imported before.",
            count,
            **figures,
        )
    if report.rejected:
        return ngettext(
            "%(num)d order in the file: %(imported)d imported, %(rejected)d rejected (see why below).",
            "%(num)d orders in the file: %(imported)d imported, %(rejected)d rejected (see why below).",
            count,
            **figures,
        )
    return ngettext(
        "%(num)d order in the file: %(imported)d imported.",
        "%(num)d orders in the file: %(imported)d imported.",
        count,
        **figures,
    )


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """An upload beyond the shop's request limit: the form again, with a clear message."""
    if not (current_user.is_authenticated and current_user.is_staff):
        return error_response(413)
    form = ImportUploadForm(formdata=None)  # the body is not read again
    form.file.errors = [
        gettext(
            "The file is too large. Upload at most %(megabytes)d MB at a time: split a bigger export "
            "into several files (orders already imported are skipped).",
            megabytes=MAX_UPLOAD_BYTES // 1_000_000,
        )
    ]
    return import_page(form, status=413)


@bp.get("/example.csv")
def example():
    return csv_file("marketplace-orders-example.csv", example_csv())


@bp.get("/<id:batch_id>")
def show(batch_id):
    batch = row_or_404(MarketplaceImport, batch_id)
    results = batch.results
    ids = {result.customer_id for result in results if result.customer_id}
    customers = {user.id: user for user in User.select().where(User.id.in_(ids))} if ids else {}
    return render(
        "admin/marketplace/batch.html",
        batch=batch,
        results=results,
        customers=customers,
    )


@bp.post("/token")
@owner_required
@fresh_password_required("admin.marketplace.index")
def token():
    """A new token, shown once in this answer (not after a redirect: it is never stored)."""
    form = ApiTokenForm()
    if not form.validate():
        abort(400)
    replaced = live_token() is not None
    new_token = create_token(actor())
    response = render(
        "admin/marketplace/token.html",
        new_token=new_token,
        replaced=replaced,
        api_url=absolute_url("api.marketplace_orders"),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/token/revoke")
@owner_required
def revoke():
    form = ApiTokenForm()
    if not form.validate():
        abort(400)
    if revoke_token(actor()):
        flash(gettext("The API token is revoked: requests with it are refused from now on."), "success")
    else:
        flash(gettext("There was no API token to revoke."), "info")
    return redirect_after_post(url_for(".index"))
