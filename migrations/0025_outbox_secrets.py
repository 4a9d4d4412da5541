"""The outbox knows the secrets in its messages (issue 19, 2).

- `outbox_message.secrets`: JSON list of the link tokens and codes in the message that let its
  reader act as the recipient; masked on the owner's pages while a mail server is configured, and
  erased from the subject and bodies (and from here) once delivery is over.
- `outbox_message.carried_secrets`: stays true after the erasure, so such a message is never
  sent again (the customer asks for a new link or code).

Messages queued before this migration are found by kind and their secrets by the shape of the
links and codes those kinds carry: erased at once where delivery is over, remembered otherwise.
"""

import json
import re

from peewee import BooleanField
from peewee import CharField
from peewee import Model
from peewee import TextField

# The kinds that carried a link token or a code, and how they looked in the text.
KINDS_WITH_SECRETS = (
    "reset_password",
    "set_password",
    "already_registered",
    "confirm_email",
    "confirm_new_email",
    "sign_in_code",
)
LINK = re.compile(r"/(?:reset-password|register/confirm|account/email/confirm)/([A-Za-z0-9_-]{20,})")
CODE = re.compile(r"^(\d{6})$", re.M)
OVER = ("sent", "failed", "unknown")


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("outbox_message", "secrets", TextField(default="")),
        migrator.add_column("outbox_message", "carried_secrets", BooleanField(default=False)),
    )

    class OutboxMessage(Model):
        kind = CharField()
        state = CharField()
        subject = CharField()
        text_body = TextField()
        html_body = TextField()
        secrets = TextField()
        carried_secrets = BooleanField()

        class Meta:
            database = db
            table_name = "outbox_message"

    for message in OutboxMessage.select().where(OutboxMessage.kind.in_(KINDS_WITH_SECRETS)):
        secrets = sorted(set(LINK.findall(message.text_body) + CODE.findall(message.text_body)), key=len)
        if not secrets:
            continue
        changes = {OutboxMessage.carried_secrets: True, OutboxMessage.secrets: json.dumps(secrets)}
        if message.state in OVER:
            changes[OutboxMessage.secrets] = ""
            for field in (OutboxMessage.subject, OutboxMessage.text_body, OutboxMessage.html_body):
                text = getattr(message, field.name)
                for secret in reversed(secrets):  # the longest first
                    text = text.replace(secret, "[removed]")
                changes[field] = text
        OutboxMessage.update(changes).where(OutboxMessage.id == message.id).execute()


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("outbox_message", "carried_secrets"),
        migrator.drop_column("outbox_message", "secrets"),
    )
