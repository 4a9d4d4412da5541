"""Rows named by an id in the URL: found, or 404.

Ids are read by models.values.row_id only. In a rule they are `<id:name>` (IdConverter, registered
as "id" by views.init_app), never `<int:name>`; a query string's id that names what the page shows
is read with `id_arg(name)`; in a form, the id fields of forms/fields.py. Whatever no row can have
(2**63, -1, 0, "²", "١٢", "abc") is not found (404) before any query runs, or refused in the form
(422). A list's cursor (funds history) and the ticks of a bulk action read row_id themselves:
what no row can have there reads like an id of no row (the newest page; a tick skipped).
"""

from flask import abort
from flask import request
from playhouse.flask_utils import get_object_or_404
from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter

from models.values import row_id


class IdConverter(BaseConverter):
    """`<id:order_id>`: a row's id, as an int. Anything else matches no route: 404."""

    regex = r"[1-9][0-9]{0,18}"  # ASCII digits (werkzeug's int converter takes any script's \d)
    weight = 50  # as werkzeug's number converters: preferred to a text variable in the same place

    def to_python(self, value):
        number = row_id(value)
        if number is None:  # 19 digits past LARGEST_ID
            # Not werkzeug's ValidationError: that answers 405 where the path has another method.
            raise NotFound()
        return number


def id_arg(name):
    """The id in query string parameter `name`: None when it is absent or empty; 404 when it is
    something no row can have (the URL names nothing that exists)."""
    text = request.args.get(name, "")
    if not text:
        return None
    number = row_id(text)
    if number is None:
        abort(404)
    return number


def row_or_404(model, id_, *where):
    """The `model` row with id `id_` (meeting the `where` conditions too), else 404."""
    return get_object_or_404(model, model.id == id_, *where)
