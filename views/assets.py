"""Static files under names that change with their content, so browsers keep them for a year.

Templates link every static file through `static_url('css/shop.css')`, which gives
`/static/css/shop.3f2a9c1b.css`: the name carries the first 8 hex digits of the SHA-256 of the
file's content, read once per process (on every call in debug mode, so an edited stylesheet
shows at once). A changed file gets a new name, so a year-long `immutable` cache is safe.

A bundle is a name for files sent as one, in order: `static_url('css/site.css')` is Pico as the
shop trims it (scripts/trim-pico.py) followed by shop.css, one request instead of two.

Who serves a hashed name:

- In production nginx does (deploy/nginx-shop.conf), from the copies `scripts/build-static.py`
  writes next to the files at deploy time (with their `.gz`). The build keeps the previous
  version's copies, so a page rendered just before an update still gets its own stylesheet.
- Anything nginx has no copy of comes here (and in development and tests everything does): the
  current file under its current hash, with the long cache; any other hash is a 404. Serving
  today's file under an old or made-up hash would let a cache keep the wrong content under a
  name promised never to change.
"""

import hashlib
import mimetypes
import re
from pathlib import Path

from flask import abort
from flask import current_app
from flask import Response
from flask import send_from_directory
from flask import url_for

HASHED_EXTENSIONS = ("css", "js", "svg", "png", "webmanifest")
HASHED = re.compile(
    r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{8})\.(?P<extension>" + "|".join(HASHED_EXTENSIONS) + ")$"
)
YEAR = 365 * 24 * 60 * 60
LONG_CACHE = f"public, max-age={YEAR}, immutable"

# Files sent as one (their names are not on disk): the order is the cascade's.
BUNDLES = {"css/site.css": ("css/pico-2.1.1.shop.min.css", "css/shop.css")}

_digests = {}  # (static folder, filename) -> digest, for the life of the process


def content_of(folder, filename):
    """The bytes static/`filename` stands for (a bundle's files joined); None when there are none."""
    parts = BUNDLES.get(filename, (filename,))
    paths = [Path(folder) / part for part in parts]
    if ".." in Path(filename).parts or not all(path.is_file() for path in paths):
        return None
    if filename not in BUNDLES:
        return paths[0].read_bytes()
    return b"\n".join(path.read_bytes().rstrip(b"\n") for path in paths) + b"\n"


def digest_of(content):
    return hashlib.sha256(content).hexdigest()[:8]


def hashed_name(filename, digest):
    """`css/shop.css` with digest `3f2a9c1b` -> `css/shop.3f2a9c1b.css`."""
    stem, _, extension = filename.rpartition(".")
    return f"{stem}.{digest}.{extension}"


def current_digest(filename):
    """The digest of static/`filename` (cached but in debug mode); None when there is no such file."""
    folder = current_app.static_folder
    key = (folder, filename)
    if key not in _digests or current_app.debug:
        content = content_of(folder, filename)
        if content is None:
            return None
        _digests[key] = digest_of(content)
    return _digests[key]


def static_url(filename):
    """The address of a static file under its content-hashed name (the plain name if it has no hashable type)."""
    digest = current_digest(filename) if filename.endswith(HASHED_EXTENSIONS) else None
    if digest is None:
        return url_for("static", filename=filename)
    return url_for("static", filename=hashed_name(filename, digest))


def init_app(app):
    app.add_template_global(static_url)
    plain = app.view_functions["static"]

    def static(filename):
        """Flask's static view, which also answers the current hashed names (long cache) and 404s old ones."""
        match = HASHED.match(filename)
        if match is None:
            return bundle(filename) if filename in BUNDLES else plain(filename=filename)
        original = f"{match['stem']}.{match['extension']}"
        if current_digest(original) != match["digest"]:
            abort(404)
        if original in BUNDLES:
            response = bundle(original)
        else:
            response = send_from_directory(app.static_folder, original, max_age=YEAR)
        response.headers["Cache-Control"] = LONG_CACHE
        return response

    def bundle(filename):
        content = content_of(app.static_folder, filename)
        if content is None:
            abort(404)
        mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        return Response(content, mimetype=mimetype)

    app.view_functions["static"] = static
