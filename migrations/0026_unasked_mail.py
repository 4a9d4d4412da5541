"""A cap on the messages anyone can make the shop send to one address (issue 19, 5).

- `outbox_message.unasked`: registration and its confirmation, sign-in codes, password resets,
  email changes and sending those again: anyone can cause them for an address that is not theirs,
  so at most a few go to one address (models/shop/outbox.UNASKED_LIMITS), counted with the new
  (to_address, created_at) index. Messages of those kinds queued before this migration count too.
"""

from peewee import BooleanField
from peewee import CharField
from peewee import Model

UNASKED_KINDS = (
    "confirm_email",
    "already_registered",
    "sign_in_code",
    "reset_password",
    "confirm_new_email",
    "email_change_taken",
)


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("outbox_message", "unasked", BooleanField(default=False)),
        migrator.add_index("outbox_message", ("to_address", "created_at"), unique=False),
    )

    class OutboxMessage(Model):
        kind = CharField()
        unasked = BooleanField()

        class Meta:
            database = db
            table_name = "outbox_message"

    OutboxMessage.update(unasked=True).where(OutboxMessage.kind.in_(UNASKED_KINDS)).execute()


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index("outbox_message", "outbox_message_to_address_created_at"),
        migrator.drop_column("outbox_message", "unasked"),
    )
