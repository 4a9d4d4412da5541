"""/healthz: is the shop able to serve, and are the jobs keeping up?"""

from flask import Blueprint
from flask import jsonify
from peewee import OperationalError
from peewee import PeeweeException

from models.operations.health import health_report

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    report = health_report()
    return json_response(report, 200 if report["ok"] else 503)


@bp.errorhandler(OperationalError)
@bp.errorhandler(PeeweeException)
def database_unreachable(error):
    """The connection opened before the request (or a query) failed: still answer in JSON.

    Registered for OperationalError itself too, so it wins over the app's
    HTML error page for that class (Flask looks handlers up class by class).
    """
    return json_response({"ok": False, "database": f"unreachable: {type(error).__name__}"}, 503)


def json_response(report, status):
    response = jsonify(report)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
