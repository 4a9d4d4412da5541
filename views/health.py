"""/healthz: is the shop able to serve, and are the jobs keeping up?"""

from flask import Blueprint
from flask import jsonify

from jobs.health import health_report

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    report = health_report()
    response = jsonify(report)
    response.status_code = 200 if report["ok"] else 503
    response.headers["Cache-Control"] = "no-store"
    return response
