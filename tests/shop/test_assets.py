"""Static files under content-hashed names (views/assets.py), their deploy copies
(scripts/build-static.py) and the trimmed Pico (scripts/trim-pico.py)."""

import gzip
import hashlib
import importlib.util
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "static"
LONG_CACHE = "public, max-age=31536000, immutable"
LINKED = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def load_script(name):
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def digest(content):
    return hashlib.sha256(content).hexdigest()[:8]


def bundle_content():
    parts = [STATIC / "css/pico-2.1.1.shop.min.css", STATIC / "css/shop.css"]
    return b"\n".join(path.read_bytes().rstrip(b"\n") for path in parts) + b"\n"


def test_pages_link_every_static_file_by_its_content_hash(client):
    html = client.get("/").get_data(as_text=True)
    linked = LINKED.findall(html)
    assert len(linked) == 6  # manifest, two icons, the stylesheet, htmx, shop.js
    for url in linked:
        assert re.search(r"\.[0-9a-f]{8}\.(css|js|svg|png|webmanifest)$", url), url
    htmx = (STATIC / "js/htmx-2.0.11.min.js").read_bytes()
    assert f"/static/js/htmx-2.0.11.min.{digest(htmx)}.js" in linked
    assert f"/static/css/site.{digest(bundle_content())}.css" in linked
    assert "pico-2.1.1.min.css" not in html  # the full Pico is no longer sent


def test_a_hashed_name_is_served_with_a_years_cache(client):
    shop_js = (STATIC / "js/shop.js").read_bytes()
    with client.get(f"/static/js/shop.{digest(shop_js)}.js") as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == LONG_CACHE
        assert response.get_data() == shop_js
        assert response.mimetype == "text/javascript"


def test_the_stylesheet_bundle_is_trimmed_pico_then_shop_css(client):
    content = bundle_content()
    with client.get(f"/static/css/site.{digest(content)}.css") as response:
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == LONG_CACHE
        assert response.mimetype == "text/css"
        assert response.get_data() == content
    assert content.startswith(b'@charset "UTF-8";/*!\n * Pico CSS')  # the licence stays


def test_an_unknown_or_old_hash_is_not_found(client):
    """Today's file under another hash would sit in caches for a year under the wrong name."""
    assert client.get("/static/js/shop.00000000.js").status_code == 404
    assert client.get("/static/css/site.00000000.css").status_code == 404
    assert client.get("/static/js/nothing.12345678.js").status_code == 404


def test_plain_names_are_still_served_without_the_long_cache(client):
    with client.get("/static/css/shop.css") as response:
        assert response.status_code == 200
        assert "immutable" not in response.headers.get("Cache-Control", "")


def test_pages_keep_the_content_security_policy_no_inline_script_or_style(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    html = response.get_data(as_text=True)
    assert "<style" not in html and " style=" not in html
    for script in re.findall(r"<script[^>]*>", html):
        assert 'src="/static/' in script, script


@pytest.fixture
def built(tmp_path, monkeypatch):
    """A copy of static/ with scripts/build-static.py run on it (gzip -1: zopfli takes seconds)."""
    static = tmp_path / "static"
    built_before = re.compile(r"\.gz$|\.[0-9a-f]{8}\.[a-z]+$")  # a build run in this checkout

    def ignore(folder, names):
        return [name for name in names if built_before.search(name)]

    shutil.copytree(STATIC, static, ignore=ignore)
    build = load_script("build-static")
    monkeypatch.setattr(build, "compress", lambda content: gzip.compress(content, compresslevel=1))
    return static, build, build.build(static)


def test_the_deploy_compression_is_gzip_any_browser_reads():
    content = (STATIC / "js/shop.js").read_bytes()
    packed = load_script("build-static").compress(content)
    assert packed[:2] == b"\x1f\x8b" and gzip.decompress(packed) == content
    assert len(packed) <= len(gzip.compress(content, compresslevel=9))


def test_the_build_writes_the_hashed_names_the_pages_link(client, built):
    static, _, written = built
    html = client.get("/").get_data(as_text=True)
    for url in LINKED.findall(html):
        assert url.removeprefix("/static/") in written, url


def test_precompressed_files_match_what_they_compress(built):
    static, build, written = built
    for name in written:
        copy = static / name
        if copy.suffix == ".png":
            assert not copy.with_name(copy.name + ".gz").exists()
            continue
        assert gzip.decompress(copy.with_name(copy.name + ".gz").read_bytes()) == copy.read_bytes()
    shop_js = static / "js/shop.js"
    assert gzip.decompress((static / "js/shop.js.gz").read_bytes()) == shop_js.read_bytes()
    assert (static / f"js/shop.{digest(shop_js.read_bytes())}.js").read_bytes() == shop_js.read_bytes()
    # Stylesheets' copies are the source minified: the same rules in fewer bytes.
    shop_css = (static / "css/shop.css").read_bytes()
    minified = (static / f"css/shop.{digest(shop_css)}.css").read_bytes()
    assert minified == build.minify_css(shop_css.decode()).encode()
    assert len(minified) < 0.9 * len(shop_css)


def test_a_rebuild_keeps_the_previous_version_and_deletes_older_ones(built):
    static, build, _ = built
    shop_js = static / "js/shop.js"
    versions = []
    for number in range(3):
        shop_js.write_text(f"// version {number}\n")
        build.build(static)
        versions.append(f"js/shop.{digest(shop_js.read_bytes())}.js")
    assert not (static / versions[0]).exists() and not (static / (versions[0] + ".gz")).exists()
    assert (static / versions[1]).exists() and (static / versions[2]).exists()


@pytest.mark.parametrize(
    ("css", "minified"),
    [
        ("a  :hover { color : red ; }\n", "a :hover{color :red}\n"),  # spaces before ":" stay
        ('/* note */ p::before { content: "a  /* b */  c"; }', 'p::before{content:"a  /* b */  c"}\n'),
        ("div { width: calc(100% - 2rem); margin: 0 , 1px }", "div{width:calc(100% - 2rem);margin:0,1px}\n"),
        ("@media (min-width: 40em) {\n  a > b { x: y }\n}", "@media (min-width:40em){a > b{x:y}}\n"),
        ("/*! licence */\na{b:c}", "/*! licence */a{b:c}\n"),
    ],
)
def test_stylesheets_are_minified_without_changing_their_meaning(css, minified):
    assert load_script("build-static").minify_css(css) == minified


def test_the_trimmed_pico_is_what_the_templates_need_today():
    """Fails when a template starts using a Pico element, class or attribute value that was
    trimmed away: run `.venv/bin/python scripts/trim-pico.py` and commit the file."""
    trim = load_script("trim-pico")
    assert (STATIC / "css/pico-2.1.1.shop.min.css").read_text() == trim.trimmed(), (
        "static/css/pico-2.1.1.shop.min.css is out of date: run scripts/trim-pico.py"
    )


def test_trimming_keeps_what_can_match_and_drops_what_cannot():
    trim = load_script("trim-pico")
    tags, words = {"button", "input", "a", "html", "body"}, {"secondary", "type", "role", "aria-invalid"}
    attributes = {"type": {"submit", "checkbox"}, "role": {"button"}, "aria-invalid": {"true"}}

    def keeps(selector):
        return trim.can_match(selector, tags, words, attributes)

    assert keeps("button.secondary:hover")
    assert keeps("[type=checkbox][aria-invalid=true]:checked")
    assert keeps(":where(a:not([role=button])),[role=link]".split(",")[0])
    assert keeps("input:not([type=range])")  # :not requires nothing
    assert keeps(":is(button,[type=reset]).secondary")  # one of :is suffices
    assert not keeps("[type=range]::-webkit-slider-thumb")
    assert not keeps("[role=group] button")
    assert not keeps("dialog > article")
    assert not keeps(".contrast")
    assert not keeps("[data-theme=dark]")
    assert not keeps(":host(:not([data-theme=dark]))")
    assert not keeps(":where(dialog, details) summary")
