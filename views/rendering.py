"""One place that decides full page or fragment, and how to answer after a POST."""

import json
from urllib.parse import urlsplit

from flask import make_response
from flask import redirect
from flask import render_template
from flask import request


def is_htmx():
    """A request htmx makes for a fragment (not a boosted page load or history restore)."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render(template, fragment=None, status=200, **context):
    """Render `template`, or only `fragment` (a partial) when htmx asked for a piece."""
    name = fragment if fragment and is_htmx() else template
    response = make_response(render_template(name, **context), status)
    if fragment:
        response.vary.add("HX-Request")
    return response


def render_invalid(template, fragment=None, **context):
    """A form that failed validation: re-rendered with every value kept, status 422."""
    return render(template, fragment=fragment, status=422, **context)


def redirect_after_post(location):
    """303 for a browser form; HX-Location so htmx follows it as a boosted navigation.

    htmx's follow-up GET would not say it is boosted, so the location asks for
    that header: the page answers whole, never as a fragment.
    """
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 204)
        response.headers["HX-Location"] = json.dumps(
            {"path": location, "target": "body", "headers": {"HX-Boosted": "true"}}
        )
        return response
    return redirect(location, 303)


def redirect_off_site(url):
    """Send the browser to another site (e.g. a payment provider's hosted page): a full
    navigation, also when the form was submitted by htmx."""
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


def safe_next(target, fallback):
    """`target` if it is a path on this site, else `fallback` (no open redirects)."""
    if not target or not isinstance(target, str):
        return fallback
    if any(ch in target for ch in "\\\r\n\t") or not target.startswith("/"):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return fallback
    return target
