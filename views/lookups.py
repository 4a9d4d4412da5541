"""Rows named by an id in the URL: found, or 404."""

from flask import abort
from playhouse.flask_utils import get_object_or_404

LARGEST_ID = 2**63 - 1  # SQLite's INTEGER; a bigger id in the URL is simply not found


def row_or_404(model, row_id, *where):
    """The `model` row with this id (meeting the `where` conditions too), else 404."""
    if row_id > LARGEST_ID:
        abort(404)
    return get_object_or_404(model, model.id == row_id, *where)
