"""The catalogue (categories, products with optional pictures and stock) and carts."""

import datetime

from peewee import BooleanField
from peewee import CharField
from peewee import Check
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import Model
from peewee import TextField


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):
        class Meta:
            table_name = "user"

    class Category(Base):
        name = CharField(unique=True)
        slug = CharField(unique=True)
        description = TextField(default="")
        position = IntegerField(default=0, index=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "category"

    class Product(Base):
        name = CharField()
        slug = CharField(unique=True)
        description = TextField(default="")
        price = IntegerField(constraints=[Check("price > 0")])
        category = ForeignKeyField(Category, on_delete="RESTRICT", index=True)
        image = CharField(null=True)
        image_width = IntegerField(null=True)
        image_height = IntegerField(null=True)
        stock = IntegerField(default=0, constraints=[Check("stock >= 0")])
        active = BooleanField(default=True, index=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        updated_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "product"

    class Cart(Base):
        user = ForeignKeyField(User, null=True, unique=True, on_delete="CASCADE")
        visitor_key = CharField(null=True, unique=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        updated_at = DateTimeField(default=datetime.datetime.utcnow, index=True)

        class Meta:
            table_name = "cart"

    class CartLine(Base):
        cart = ForeignKeyField(Cart, on_delete="CASCADE")
        product = ForeignKeyField(Product, on_delete="CASCADE", index=True)
        quantity = IntegerField(constraints=[Check("quantity > 0")])
        added_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            table_name = "cart_line"
            indexes = ((("cart", "product"), True),)

    db.create_tables([Category, Product, Cart, CartLine])


def down(migrator, db):
    for table in ("cart_line", "cart", "product", "category"):
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"')
