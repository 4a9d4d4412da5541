"""Product pictures: an upload checked and decoded, made into WebP renditions, kept in the database.

An upload (JPEG, PNG or WebP, at most 2 MB) is decoded with Pillow, never trusted by its name
or the browser's claim: anything Pillow can't open as one of those three is refused, and so is
a picture of more than IMAGE_MAX_PIXELS before it is decoded (a "decompression bomb": a small
file that unpacks into gigabytes). Its EXIF orientation is applied to the pixels, then every
piece of metadata (EXIF with its GPS position, XMP, comments) is left behind: the renditions
are written from the pixels alone, with only the colour profile kept so colours stay right.

Renditions: WebP at RENDITION_WIDTHS (320, 640 and 1024 pixels wide) that are narrower than the
picture, plus one at the picture's own width when that is under 1024, never enlarged, aspect
ratio kept. The browser picks one from `srcset`. The original upload is not kept: the largest
rendition is as large as any page shows a picture (a 2× phone, the product page on a desktop),
an original would keep the metadata we promise to drop, and it could be twenty times larger in
every backup.

Storage: one `product_picture` row per rendition, with its bytes (BLOB on SQLite, bytea on
PostgreSQL), so every web host serves the same pictures and every backup of the database has
them. A picture's renditions share a random `key`; a product points at its picture by that key
(`Product.image`, with the largest rendition's width and height in `image_width`/`image_height`
so pages set the size before the picture arrives and nothing jumps). A new picture gets a new
key, so its address changes and browsers may keep every picture a year. A picture is stored
when it is uploaded, before the product form is saved (a form sent back for a correction keeps
it); a picture no product uses is deleted when its product lets it go, and one never used
(an abandoned form) a day after it was uploaded, the next time a picture is stored.
"""

import datetime
import hashlib
import io
import secrets
import warnings
from dataclasses import dataclass

from flask_babel import format_number
from flask_babel import gettext
from peewee import BlobField
from peewee import CharField
from peewee import DateTimeField
from peewee import IntegerField
from PIL import Image
from PIL import ImageOps
from PIL import UnidentifiedImageError

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction

IMAGE_MAX_BYTES = 2_000_000
IMAGE_MAX_PIXELS = 40_000_000  # 40 megapixels: every phone camera, but no decompression bomb
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
RENDITION_WIDTHS = (320, 640, 1024)
RENDITION_MAX_HEIGHT = 2048  # a very tall picture is scaled down to this height at most
WEBP_QUALITY = 80
KEY_BYTES = 16  # 32 hex digits
UNUSED_GRACE = datetime.timedelta(days=1)  # a picture uploaded with a form that was never saved


class ProductPicture(BaseModel):
    """One rendition of a product picture (see the module docstring)."""

    key = CharField(max_length=32)  # shared by a picture's renditions; Product.image
    width = IntegerField()
    height = IntegerField()
    format = CharField(max_length=8, default="webp")  # the media subtype: image/webp
    etag = CharField(max_length=64)  # sha256 of `data`, hex
    size = IntegerField()  # bytes in `data`
    data = BlobField()
    created_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "product_picture"
        indexes = ((("key", "width"), True),)


class ImageRejected(Exception):
    """An upload that is not a picture we take; the message is for the uploader."""


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    data: bytes


@dataclass(frozen=True)
class StoredPicture:
    """A stored picture, before or after a product points at it. Has the attributes the
    templates' `product_art` reads from a product, so a picture not yet saved with its
    product can be shown the same way."""

    key: str
    width: int
    height: int

    @property
    def image(self):
        return self.key

    @property
    def image_width(self):
        return self.width

    @property
    def image_height(self):
        return self.height

    @property
    def picture_widths(self):
        return rendition_widths(self.width)


def rendition_widths(width):
    """The widths of the renditions of a picture whose largest rendition is `width` wide."""
    if not width:
        return []
    return [w for w in RENDITION_WIDTHS if w < width] + [width]


def valid_key(key):
    return isinstance(key, str) and len(key) == 2 * KEY_BYTES and all(c in "0123456789abcdef" for c in key)


# Making renditions --------------------------------------------------------------


def decode(data):
    """The upload as a Pillow image, upright and in RGB or RGBA; ImageRejected if it isn't one we take."""
    if not data:
        raise ImageRejected(gettext("That file is empty. Choose the picture again."))
    if len(data) > IMAGE_MAX_BYTES:
        raise ImageRejected(gettext("That picture is larger than 2 MB. Save a smaller copy and try again."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
            width, height = image.size  # from the header: nothing is decoded yet
            if width * height > IMAGE_MAX_PIXELS:
                raise ImageRejected(
                    gettext(
                        "That picture has too many pixels (%(width)s × %(height)s). "
                        "Save a copy at most 6,000 pixels wide and try again.",
                        width=format_number(width),
                        height=format_number(height),
                    )
                )
            image.seek(0)  # an animated picture: its first frame
            image.load()
            image = ImageOps.exif_transpose(image)
    except UnidentifiedImageError:
        raise ImageRejected(
            gettext("Choose a JPEG, PNG or WebP picture. That file is another kind.")
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(
            gettext("That picture has too many pixels. Save a smaller copy and try again.")
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise ImageRejected(
            gettext("That picture looks damaged or cut short. Try saving it again.")
        ) from None
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    icc_profile = image.info.get("icc_profile")
    image = image.convert("RGBA" if has_alpha else "RGB")
    if icc_profile:
        image.info = {"icc_profile": icc_profile}
    else:
        image.info = {}
    return image


def renditions(image):
    """WebP renditions of a decoded picture, narrowest first, never enlarged."""
    width, height = image.size
    scale = min(1.0, RENDITION_WIDTHS[-1] / width, RENDITION_MAX_HEIGHT / height)
    largest = max(1, round(width * scale))
    icc_profile = image.info.get("icc_profile")
    made = []
    for w in rendition_widths(largest):
        h = max(1, round(height * w / width))
        resized = (
            image
            if (w, h) == image.size
            else image.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=3.0)
        )
        out = io.BytesIO()
        options = {"quality": WEBP_QUALITY, "method": 4}
        if icc_profile:
            options["icc_profile"] = icc_profile
        resized.save(out, "WEBP", **options)  # no exif, no xmp: the metadata stays behind
        made.append(Rendition(w, h, out.getvalue()))
    return made


def renditions_of_upload(data):
    return renditions(decode(data))


# Storing and reading ------------------------------------------------------------


def store_renditions(made, in_use, key=None, now=None):
    """Keep renditions under a new (or the given) key; returns a StoredPicture.

    `in_use` is a query of the keys products use: pictures uploaded more than a day ago that
    none uses are deleted on the way (forms that were never saved).
    """
    key = key or secrets.token_hex(KEY_BYTES)
    now = now or utcnow()
    with write_transaction():
        ProductPicture.delete().where(
            (ProductPicture.created_at < now - UNUSED_GRACE) & ProductPicture.key.not_in(in_use)
        ).execute()
        for rendition in made:
            ProductPicture.create(
                key=key,
                width=rendition.width,
                height=rendition.height,
                etag=hashlib.sha256(rendition.data).hexdigest(),
                size=len(rendition.data),
                data=rendition.data,
                created_at=now,
            )
    largest = made[-1]
    return StoredPicture(key, largest.width, largest.height)


def stored_picture(key):
    """A picture stored earlier (e.g. uploaded with a form that then needed a correction), or None."""
    if not valid_key(key):
        return None
    largest = (
        ProductPicture.select(ProductPicture.width, ProductPicture.height)
        .where(ProductPicture.key == key)
        .order_by(ProductPicture.width.desc())
        .first()
    )
    return StoredPicture(key, largest.width, largest.height) if largest else None


def rendition_info(key, width):
    """A rendition's etag, size and format, without its bytes (None if there is none)."""
    if not valid_key(key):
        return None
    return (
        ProductPicture.select(
            ProductPicture.id, ProductPicture.etag, ProductPicture.size, ProductPicture.format
        )
        .where((ProductPicture.key == key) & (ProductPicture.width == width))
        .first()
    )


def rendition_data(rendition_id):
    """The bytes of one rendition (and of no other row)."""
    return bytes(
        ProductPicture.select(ProductPicture.data).where(ProductPicture.id == rendition_id).scalar() or b""
    )


def delete_picture(key):
    """Delete a picture's renditions (the catalogue checks first that no product uses it)."""
    ProductPicture.delete().where(ProductPicture.key == key).execute()
