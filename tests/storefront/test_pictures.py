"""Product pictures: uploads decoded and made into WebP renditions in the database, served with a
long cache, shown with srcset and sizes; the demo's drawn photos; the move of pictures on disk."""

import datetime
import io
import re
from html import unescape

import pytest
from PIL import Image
from PIL import ImageFile
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from models.base import bind_database
from models.base import db
from models.operations.demo import DEMO_PRODUCTS
from models.operations.demo import load_demo_catalogue
from models.operations.migrate import runner
from models.storefront.catalog import Category
from models.storefront.catalog import Product
from models.storefront.catalog import store_image
from models.storefront.pictures import ImageRejected
from models.storefront.pictures import ProductPicture
from models.storefront.pictures import rendition_info
from models.storefront.pictures import rendition_widths
from tests.conftest import csrf_token
from tests.conftest import post_form

NEW = "/admin/catalog/products/new"


def picture_bytes(width, height, kind="PNG", colour=(180, 120, 60), mode="RGB", **options):
    image = Image.new(mode, (width, height), colour)
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def camera_jpeg():
    """A 1600 × 1200 photo taken with the phone on its side (EXIF orientation 6: turn it a quarter
    clockwise to see it upright), left half red, right half blue, with the GPS position in EXIF."""
    image = Image.new("RGB", (1600, 1200), (220, 30, 30))
    image.paste((30, 30, 220), (800, 0, 1600, 1200))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (51.0, 30.0, 12.5), "W", (0.0, 7.0, 39.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)[1] == "N"  # the GPS is really there
    return data


def upload(client, path, data, filename="photo.png", **fields):
    """A multipart form post, encoded here (the test client spools big bodies to a file it never closes)."""
    fields = {
        **fields,
        "csrf_token": csrf_token(client, path),
        "image": FileStorage(io.BytesIO(data), filename),
    }
    boundary, body = encode_multipart(fields)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def tea(app):
    return Category.create(name="Tea", slug="tea")


def product_form(tea, **overrides):
    return {
        "name": "Oolong, 100 g",
        "category_id": str(tea.id),
        "description": "Roasted and sweet.",
        "price": "12.40",
        "stock": "7",
        "active": "y",
        "slug": "",
        **overrides,
    }


def served(client, product, width):
    return client.get(f"/pictures/{product.image}-{width}.webp")


def opened(response):
    assert response.status_code == 200 and response.mimetype == "image/webp"
    image = Image.open(io.BytesIO(response.data))
    assert image.format == "WEBP"
    return image


# Uploads -----------------------------------------------------------------------------------------


def test_a_phone_photo_becomes_upright_webp_renditions_without_its_gps_position(owner_client, tea):
    response = upload(owner_client, NEW, camera_jpeg(), "IMG_0001.JPG", **product_form(tea))
    assert response.status_code == 303
    product = Product.get(Product.name == "Oolong, 100 g")
    # Upright: 1200 wide, 1600 high; the largest rendition is 1024 wide, never the original.
    assert (product.image_width, product.image_height) == (1024, 1365)
    assert product.picture_widths == [320, 640, 1024]
    rows = ProductPicture.select().where(ProductPicture.key == product.image).order_by(ProductPicture.width)
    assert [(r.width, r.height, r.format) for r in rows] == [
        (320, 427, "webp"),
        (640, 853, "webp"),
        (1024, 1365, "webp"),
    ]
    for width in (320, 640, 1024):
        image = opened(served(owner_client, product, width))
        assert image.width == width
        assert not image.getexif() and "exif" not in image.info and "xmp" not in image.info
        top, bottom = (
            image.getpixel((width // 2, image.height // 4)),
            image.getpixel((width // 2, image.height * 3 // 4)),
        )
        assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]  # the left (red) side is now on top
    assert b"PhoneMaker" not in b"".join(bytes(r.data) for r in rows)


def test_a_png_keeps_its_transparency_and_a_small_one_is_never_enlarged(owner_client, tea):
    data = picture_bytes(300, 200, mode="RGBA", colour=(0, 0, 0, 0))
    assert upload(owner_client, NEW, data, **product_form(tea)).status_code == 303
    product = Product.get(Product.name == "Oolong, 100 g")
    assert (product.image_width, product.image_height) == (300, 200) and product.picture_widths == [300]
    image = opened(served(owner_client, product, 300))
    assert image.mode == "RGBA" and image.getpixel((10, 10))[3] == 0
    assert served(owner_client, product, 320).status_code == 404


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"<script>alert(1)</script>", "photo.jpg", "Choose a JPEG, PNG or WebP picture"),
        (picture_bytes(40, 30, "GIF"), "photo.png", "Choose a JPEG, PNG or WebP picture"),
        (picture_bytes(40, 30)[:60], "photo.png", "looks damaged or cut short"),
        (picture_bytes(8000, 6000, mode="1", colour=0), "bomb.png", "too many pixels (8,000 × 6,000)"),
        (picture_bytes(4, 3) + b"\x00" * 2_000_000, "big.png", "larger than 2 MB"),
    ],
    ids=["script", "gif", "cut-short", "decompression-bomb", "over-2-mb"],
)
def test_a_file_we_do_not_take_is_refused_and_the_form_keeps_what_was_typed(
    owner_client, tea, data, filename, message
):
    response = upload(owner_client, NEW, data, filename, **product_form(tea, name="Oolong, 250 g"))
    html = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert message in html and 'value="Oolong, 250 g"' in html and 'value="12.40"' in html
    assert "error-summary" in html
    assert not Product.select().exists() and not ProductPicture.select().exists()


def test_the_decompression_bomb_is_refused_before_it_is_decoded(app, monkeypatch):
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded"))
    with pytest.raises(ImageRejected, match="too many pixels"):
        store_image(picture_bytes(8000, 6000, mode="1", colour=0))


def test_a_picture_sent_with_a_mistake_is_kept_for_the_corrected_form(owner_client, tea):
    response = upload(owner_client, NEW, picture_bytes(40, 30), **product_form(tea, stock="lots"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "This picture will be used" in html
    pending = html.split('name="pending_image" type="hidden" value="')[1].split('"')[0]
    assert f"/pictures/{pending}-40.webp" in html
    response = post_form(owner_client, NEW, product_form(tea, pending_image=pending))
    assert response.status_code == 303
    assert Product.get(Product.name == "Oolong, 100 g").image == pending


def test_replacing_or_removing_a_picture_deletes_the_old_renditions(owner_client, tea):
    upload(owner_client, NEW, picture_bytes(40, 30), **product_form(tea))
    product = Product.get(Product.name == "Oolong, 100 g")
    edit = f"/admin/catalog/products/{product.id}"
    fields = product_form(tea, slug=product.slug)
    first = product.image
    assert upload(owner_client, edit, picture_bytes(50, 30), **fields).status_code == 303
    second = Product.get_by_id(product.id).image
    assert second != first
    assert {r.key for r in ProductPicture.select(ProductPicture.key)} == {second}
    assert post_form(owner_client, edit, {**fields, "remove_image": "y"}).status_code == 303
    assert Product.get_by_id(product.id).image is None and not ProductPicture.select().exists()
    assert "product-art--placeholder" in owner_client.get(f"/p/{product.slug}").get_data(as_text=True)


def test_a_picture_never_saved_with_its_form_is_deleted_a_day_later(app, tea):
    then = datetime.datetime(2026, 3, 1, 12, 0)
    abandoned = store_image(picture_bytes(40, 30), now=then)
    kept = store_image(picture_bytes(40, 30), now=then)
    Product.create(
        name="Kept", slug="kept", price=100, category=tea, image=kept.key, image_width=40, image_height=30
    )
    store_image(picture_bytes(40, 30), now=then + datetime.timedelta(hours=23))
    assert ProductPicture.select().where(ProductPicture.key == abandoned.key).exists()
    store_image(picture_bytes(40, 30), now=then + datetime.timedelta(hours=25))
    assert not ProductPicture.select().where(ProductPicture.key == abandoned.key).exists()
    assert ProductPicture.select().where(ProductPicture.key == kept.key).exists()


# Serving -----------------------------------------------------------------------------------------


def test_a_rendition_is_served_with_a_long_cache_and_an_etag(app, client, tea):
    picture = store_image(picture_bytes(800, 600))
    assert rendition_widths(picture.width) == [320, 640, 800]
    response = client.get(f"/pictures/{picture.key}-640.webp")
    image = opened(response)
    assert image.size == (640, 480)
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Vary" not in response.headers  # the same for everyone: shared caches may keep it
    assert response.headers["Content-Type"] == "image/webp"
    assert int(response.headers["Content-Length"]) == len(response.data)
    etag = response.headers["ETag"]
    row = ProductPicture.get((ProductPicture.key == picture.key) & (ProductPicture.width == 640))
    assert etag == f'"{row.etag}"' and len(row.etag) == 64 and row.size == len(response.data)

    again = client.get(f"/pictures/{picture.key}-640.webp", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert "immutable" in again.headers["Cache-Control"]
    other = client.get(f"/pictures/{picture.key}-640.webp", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.data == response.data


def test_reading_a_rendition_asks_for_its_bytes_alone(app):
    picture = store_image(picture_bytes(800, 600))
    info = rendition_info(picture.key, 320)
    assert info.data is None and info.size > 0  # the bytes are read with rendition_data, one row


@pytest.mark.parametrize(
    "path",
    [
        "/pictures/" + "0" * 32 + "-320.webp",  # no such picture
        "/pictures/{key}-321.webp",  # no such width
        "/pictures/{key}-320.jpg",
        "/pictures/../secret_key-320.webp",
        "/pictures/" + "Z" * 32 + "-320.webp",
        "/images/products/{key}.png",  # where pictures used to be
    ],
)
def test_unknown_pictures_are_404(app, client, path):
    picture = store_image(picture_bytes(400, 300))
    assert client.get(path.format(key=picture.key)).status_code == 404


# Markup ------------------------------------------------------------------------------------------


def images(html):
    return re.findall(r"<img [^>]*>", html)


def attribute(tag, name):
    match = re.search(rf'\s{name}="([^"]*)"', tag)
    return unescape(match.group(1)) if match else None


@pytest.fixture
def demo(app):
    load_demo_catalogue()


@pytest.mark.parametrize("path", ["/", "/c/coffee"])
def test_only_the_first_card_picture_loads_at_once_with_high_priority(client, demo, path):
    tags = images(client.get(path).get_data(as_text=True))
    assert len(tags) >= 3
    first, rest = tags[0], tags[1:]
    assert attribute(first, "loading") == "eager" and attribute(first, "fetchpriority") == "high"
    assert all(attribute(tag, "loading") == "lazy" and "fetchpriority" not in tag for tag in rest)
    for tag in tags:
        key = re.search(r"/pictures/([0-9a-f]{32})-", tag).group(1)
        assert attribute(tag, "srcset") == ", ".join(
            f"/pictures/{key}-{w}.webp {w}w" for w in (320, 640, 1024)
        )
        assert attribute(tag, "src") == f"/pictures/{key}-640.webp"
        assert attribute(tag, "sizes").endswith("48vw")
        assert (attribute(tag, "width"), attribute(tag, "height")) == ("1024", "768")


def test_the_product_page_picture_loads_first_and_the_cart_thumbnails_lazily(client, demo):
    html = client.get("/p/sencha-100g").get_data(as_text=True)
    [tag] = images(html)
    assert attribute(tag, "alt") == "Sencha, 100 g" and attribute(tag, "fetchpriority") == "high"
    assert attribute(tag, "loading") == "eager" and attribute(tag, "sizes").endswith("94vw")
    post_form(client, "/p/sencha-100g/add", {"quantity": "1"}, page="/p/sencha-100g")
    [thumb] = images(client.get("/cart").get_data(as_text=True))
    assert attribute(thumb, "loading") == "lazy" and attribute(thumb, "sizes") == "72px"


def test_a_product_without_a_picture_keeps_its_placeholder_tile(client, tea):
    Product.create(name="Oolong, 100 g", slug="oolong", price=1240, stock=3, category=tea)
    html = client.get("/p/oolong").get_data(as_text=True)
    assert (
        not images(html)
        and "product-art--placeholder product-art--tone-" in html
        and "<span>O</span>" in html
    )


# The demo's photos -------------------------------------------------------------------------------


def test_every_demo_product_gets_a_drawn_photo_once(app):
    assert "8 pictures drawn" in load_demo_catalogue()
    products = list(Product.select())
    assert len(products) == len(DEMO_PRODUCTS)
    for product in products:
        assert (product.image_width, product.image_height) == (1024, 768), product.slug
        widths = [r.width for r in ProductPicture.select().where(ProductPicture.key == product.image)]
        assert sorted(widths) == [320, 640, 1024]
    assert "0 pictures drawn" in load_demo_catalogue()
    assert ProductPicture.select().count() == 3 * len(DEMO_PRODUCTS)


def test_demo_photos_are_drawn_the_same_way_every_time(app):
    from models.operations.demo_pictures import demo_picture

    first = demo_picture("sencha-100g", "Sencha, 100 g")
    assert first.size == (1024, 768) and first.mode == "RGB"
    assert first.tobytes() == demo_picture("sencha-100g", "Sencha, 100 g").tobytes()
    colours = first.resize((16, 12)).getcolors(256)
    assert len(colours) > 20  # a photo, not a flat placeholder


# Pictures on disk before migration 0033 ----------------------------------------------------------


@pytest.mark.sqlite_only(reason="writes rows between migrations")
def test_migration_0033_moves_pictures_from_the_instance_folder_into_the_database(tmp_path, monkeypatch):
    folder = tmp_path / "instance" / "product-images"
    folder.mkdir(parents=True)
    (folder / ("a" * 32 + ".jpg")).write_bytes(camera_jpeg())
    monkeypatch.setenv("SHOP_INSTANCE_PATH", str(tmp_path / "instance"))
    bind_database(f"sqlite:///{tmp_path / 'upgrade.sqlite3'}")
    with db.connection_context():
        names = [migration.name for migration in runner().status()]
        runner().up(names[names.index("0033_product_pictures") - 1])
        db.execute_sql(
            "INSERT INTO category (name, slug, description, position, created_at, updated_at)"
            " VALUES ('Tea', 'tea', '', 0, '2026-01-01', '2026-01-01')"
        )
        for slug, image in (("moved", "a" * 32 + ".jpg"), ("lost", "b" * 32 + ".png"), ("none", None)):
            db.execute_sql(
                "INSERT INTO product (name, slug, description, price, category_id, image, image_width,"
                " image_height, stock, active, created_at, updated_at)"
                " VALUES (?, ?, '', 100, 1, ?, 1600, 1200, 1, 1, '2026-01-01', '2026-01-01')",
                (slug, slug, image),
            )
        runner().up()
        products = {p.slug: p for p in Product.select()}
        moved = products["moved"]
        assert (moved.image, moved.image_width, moved.image_height) == ("a" * 32, 1024, 1365)
        assert [r.width for r in ProductPicture.select().order_by(ProductPicture.width)] == [320, 640, 1024]
        assert products["lost"].image is None and products["lost"].image_width is None  # its file was missing
        assert products["none"].image is None


@pytest.mark.sqlite_only(
    reason="backs up the SQLite file (PostgreSQL shops use pg_dump, which has the bytea too)"
)
def test_a_backup_of_the_database_has_the_pictures(app, tmp_path):
    import sqlite3

    from models.operations.backup import make_backup

    picture = store_image(picture_bytes(400, 300))
    backup = make_backup(tmp_path / "backup.sqlite3")
    with sqlite3.connect(backup.path) as copy:
        rows = copy.execute(
            "SELECT width, data FROM product_picture WHERE key = ?", (picture.key,)
        ).fetchall()
    assert sorted(width for width, _ in rows) == [320, 400]
    assert all(Image.open(io.BytesIO(data)).format == "WEBP" for _, data in rows)
