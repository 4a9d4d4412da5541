"""Writes the static files' deploy copies: hashed names and gzip files, for nginx to serve from disk.

    .venv/bin/python scripts/build-static.py [--static DIR]

Run at every deploy, after the code is in place (README, Running in production and Updating).
For each file of a hashable type under static/ (views/assets.py: css, js, svg, png, webmanifest)
it writes a copy under the name the pages link to, `css/shop.3f2a9c1b.css`, and for text types
a `.gz` of the file and of the copy (zopfli, else gzip -9), which nginx sends as they are
(`gzip_static on`) instead of compressing every response. A stylesheet's copy is minified
(comments and spaces out: shop.css goes from 11 to 8.5 KB gzipped): the name is the hash of the
source, the content the same rules in fewer bytes, and the app, which serves a hashed name nginx
has no copy of, sends the source as it is. Copies and `.gz` files are
git-ignored. Of the older hashed copies of a file it keeps the newest one (a page rendered just
before the update still gets its own stylesheet) and deletes the rest with their `.gz`.
Bundles (views/assets.py: `css/site.css` is the trimmed Pico and shop.css) exist only as their
hashed copies.

The hashes are views/assets.py's own, so nginx's copies and the app's links always agree; a
file nginx has no copy of (the build not run) is still served by the app, only uncompressed on
disk and compressed by nginx on the fly.
"""

import argparse
import gzip
import importlib.util
import re
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


def compress_into(path, content):
    """Writes `path`, the gzip of `content`, unless it already holds it (zopfli takes seconds)."""
    if path.exists() and gzip.decompress(path.read_bytes()) == content:
        return
    path.write_bytes(compress(content))


def compress(content):
    """gzip bytes any browser reads: by zopfli (requirements.txt) when installed, 3-5 % smaller
    than gzip -9 for a slower build; else gzip -9. Both give the same bytes for the same file."""
    try:
        from zopfli.gzip import compress as zopfli
    except ImportError:
        return gzip.compress(content, compresslevel=9, mtime=0)  # mtime 0: rebuilds change nothing
    return zopfli(content, numiterations=15)


def minify_css(css):
    """`css` without comments and needless spaces; strings are left as they are. Spaces before
    `:` stay (`a :hover` is not `a:hover`), and so do those around `+`, `-` (calc) and `>`."""
    out, index = [], 0
    chunk = []

    def flush():
        text = re.sub(r"\s+", " ", "".join(chunk))
        text = re.sub(r"\s*([{};,])\s*", r"\1", text)
        text = re.sub(r":\s+", ":", text)
        out.append(text.lstrip() if not out or out[-1].startswith("/*!") else text)
        chunk.clear()

    while index < len(css):
        char = css[index]
        if char in "\"'":
            end = index + 1
            while css[end] != char:
                end += 2 if css[end] == "\\" else 1
            flush()
            out.append(css[index : end + 1])
            index = end + 1
        elif css.startswith("/*", index):
            end = css.index("*/", index) + 2
            if css.startswith("/*!", index):  # licences stay
                flush()
                out.append(css[index:end])
            else:
                chunk.append(" ")
            index = end
        else:
            chunk.append(char)
            index += 1
    flush()
    return "".join(out).replace(";}", "}").strip() + "\n"


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
        relative = source.relative_to(static).as_posix()
        written.append(write_copies(assets, static, relative, source.read_bytes()))
    for name in assets.BUNDLES:  # written as copies only: pages link them by their hashed names
        content = assets.content_of(static, name)
        if content is not None:
            written.append(write_copies(assets, static, name, content))
    return sorted(path.relative_to(static).as_posix() for path in written)


def write_copies(assets, static, relative, content):
    """The hashed copy of static/`relative` (content given) and its .gz, the plain file's .gz."""
    source = static / relative
    copy = static / assets.hashed_name(relative, assets.digest_of(content))
    served = minify_css(content.decode()).encode() if source.suffix == ".css" else content
    write_if_changed(copy, served)
    if source.suffix[1:] in COMPRESSED:
        if source.exists():
            compress_into(source.with_name(source.name + ".gz"), content)
        compress_into(copy.with_name(copy.name + ".gz"), served)
    prune(assets, source, copy)
    return copy


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
