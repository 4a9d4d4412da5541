"""Product pictures in the database, as WebP renditions (issue 22).

- `product_picture`: one row per rendition of a picture (its width, height, format, sha256
  etag, size and bytes), the renditions of one picture sharing a random `key`
  (models/storefront/pictures.py).
- `product.image` now holds that key instead of a file name in the instance folder's
  product-images directory; `image_width`/`image_height` are the largest rendition's.

The pictures already uploaded are moved in here: each product's file is read from
`<instance folder>/product-images/` (the running app's instance folder, else
SHOP_INSTANCE_PATH, else ./instance), decoded and made into renditions like a new upload,
keeping the hex part of its old name as its key. A file that is missing or no longer
accepted (more pixels than an upload may have now) leaves its product with the placeholder,
and is logged. The files stay where they are: once the shop shows its pictures, the
directory can be deleted.

Down drops the renditions and leaves every product with the placeholder.
"""

import datetime
import logging
import os
import re
from pathlib import Path

from peewee import BlobField
from peewee import CharField
from peewee import DateTimeField
from peewee import IntegerField
from peewee import Model

log = logging.getLogger(__name__)
OLD_NAME = re.compile(r"[0-9a-f]{32}\.(?:jpg|png|webp)")  # what the uploads were called


def instance_folder():
    from flask import current_app
    from flask import has_app_context

    if has_app_context():
        return Path(current_app.instance_path)
    if os.environ.get("SHOP_INSTANCE_PATH"):
        return Path(os.environ["SHOP_INSTANCE_PATH"])
    return Path(__file__).resolve().parents[1] / "instance"


def up(migrator, db):
    class ProductPicture(Model):
        key = CharField(max_length=32)
        width = IntegerField()
        height = IntegerField()
        format = CharField(max_length=8, default="webp")
        etag = CharField(max_length=64)
        size = IntegerField()
        data = BlobField()
        created_at = DateTimeField(default=datetime.datetime.utcnow, index=True)

        class Meta:
            database = db
            table_name = "product_picture"
            indexes = ((("key", "width"), True),)

    class Product(Model):
        image = CharField(null=True)
        image_width = IntegerField(null=True)
        image_height = IntegerField(null=True)

        class Meta:
            database = db
            table_name = "product"

    db.create_tables([ProductPicture])
    rows = list(Product.select(Product.id, Product.image).where(Product.image.is_null(False)).tuples())
    if rows:
        _import_files(Product, ProductPicture, rows, instance_folder() / "product-images")


def _import_files(Product, ProductPicture, rows, folder):
    import hashlib

    from models.storefront.pictures import ImageRejected
    from models.storefront.pictures import renditions_of_upload

    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    for product_id, name in rows:
        key = name.split(".")[0]
        largest = (
            ProductPicture.select(ProductPicture.width, ProductPicture.height)
            .where(ProductPicture.key == key)
            .order_by(ProductPicture.width.desc())
            .first()
        )  # two products that shared one file share its renditions
        if largest is None:
            try:
                if not OLD_NAME.fullmatch(name):
                    raise OSError("not a picture file name of ours")
                made = renditions_of_upload((folder / name).read_bytes())
            except (OSError, ImageRejected) as error:
                log.warning(
                    "product %s: picture %s not moved into the database (%s)", product_id, name, error
                )
                made = []
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
            largest = made[-1] if made else None
        Product.update(
            image=key if largest else None,
            image_width=largest.width if largest else None,
            image_height=largest.height if largest else None,
        ).where(Product.id == product_id).execute()


def down(migrator, db):
    db.execute_sql("UPDATE product SET image = NULL, image_width = NULL, image_height = NULL")
    db.execute_sql('DROP TABLE IF EXISTS "product_picture"')
