"""Writes the static files' deploy copies: hashed names and gzip files, for nginx to serve from disk.

    .venv/bin/python scripts/build-static.py [--static DIR]

Run at every deploy, after the code is in place (README, Running in production and Updating).
For each file of a hashable type under static/ (views/assets.py: css, js, svg, png, webmanifest)
it writes a copy under the name the pages link to, `css/shop.3f2a9c1b.css`, and for text types
a `.gz` of the file and of the copy (gzip level 9), which nginx sends as they are
(`gzip_static on`) instead of compressing every response. Copies and `.gz` files are
git-ignored. Of the older hashed copies of a file it keeps the newest one (a page rendered just
before the update still gets its own stylesheet) and deletes the rest with their `.gz`.

The hashes are views/assets.py's own, so nginx's copies and the app's links always agree; a
file nginx has no copy of (the build not run) is still served by the app, only uncompressed on
disk and compressed by nginx on the fly.
"""

import argparse
import gzip
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPRESSED = ("css", "js", "svg", "webmanifest")  # png is compressed already


def load_assets():
    """views/assets.py alone (not the views package, which would import the whole app)."""
    spec = importlib.util.spec_from_file_location("shop_assets", ROOT / "views" / "assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_if_changed(path, content):
    if not path.exists() or path.read_bytes() != content:
        path.write_bytes(content)


def compress(content):
    # mtime=0: the same file compresses to the same bytes, so rebuilds change nothing.
    return gzip.compress(content, compresslevel=9, mtime=0)


def build(static):
    """Writes the copies under `static`; returns the names written (relative, sorted)."""
    assets = load_assets()
    written = []
    sources = [
        path
        for path in sorted(static.rglob("*"))
        if path.is_file()
        and path.suffix[1:] in assets.HASHED_EXTENSIONS
        and not assets.HASHED.match(path.name)
    ]
    for source in sources:
        content = source.read_bytes()
        relative = source.relative_to(static).as_posix()
        copy = static / assets.hashed_name(relative, assets.digest_of(content))
        write_if_changed(copy, content)
        written.append(copy)
        if source.suffix[1:] in COMPRESSED:
            packed = compress(content)
            for target in (source, copy):
                write_if_changed(target.with_name(target.name + ".gz"), packed)
        prune(assets, source, copy)
    return sorted(path.relative_to(static).as_posix() for path in written)


def prune(assets, source, current):
    """Deletes the older hashed copies of `source` but the newest one before `current`."""
    stem, extension = source.stem, source.suffix[1:]
    older = []
    for path in source.parent.glob(f"{stem}.*.{extension}"):
        match = assets.HASHED.match(path.name)
        if path != current and match and match["stem"] == stem and match["extension"] == extension:
            older.append(path)
    older.sort(key=lambda path: path.stat().st_mtime, reverse=True)
    for path in older[1:]:
        path.unlink()
        path.with_name(path.name + ".gz").unlink(missing_ok=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--static", type=Path, default=ROOT / "static")
    args = parser.parse_args()
    written = build(args.static)
    print(f"{len(written)} hashed copies in {args.static}")


if __name__ == "__main__":
    main()
