"""Where a sign-up goes back to, and the cart it brings along (issue 21).

- `registration_draft.return_to`, `.cart_key`: a registration started from the checkout's
  "How would you like to continue?" page remembers the page to go back to (a path on this site,
  checked like every `next`) and the visitor's cart key while the four steps are filled in.
- `registration_return`: the same two, kept with the "check your inbox" ticket once the draft is
  gone, so confirming by code (same tab) or by the emailed link (any browser, even one without
  the visitor's cart) signs in, brings the cart into the new account and goes back to checkout.
  Written for every finished registration that has either, whether or not the address already had
  an account, and deleted when used or after the link's 48 hours (housekeeping).
"""

import datetime

from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import Model
from peewee import TextField


def up(migrator, db):
    class AccountToken(Model):
        id = CharField(primary_key=True)

        class Meta:
            database = db
            table_name = "account_token"

    class RegistrationReturn(Model):
        token = ForeignKeyField(AccountToken, primary_key=True, on_delete="CASCADE")
        return_to = TextField(null=True)
        cart_key = CharField(null=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow, index=True)

        class Meta:
            database = db
            table_name = "registration_return"

    migrator.migrate(
        migrator.add_column("registration_draft", "return_to", TextField(null=True)),
        migrator.add_column("registration_draft", "cart_key", CharField(null=True)),
    )
    db.create_tables([RegistrationReturn])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "registration_return"')
    migrator.migrate(
        migrator.drop_column("registration_draft", "return_to"),
        migrator.drop_column("registration_draft", "cart_key"),
    )
