"""Mail anyone can ask for, answered by the jobs process (issue 19, 6).

- `mail_request`: one row per request for a password-reset link or a sign-in code (and sending
  that code again), written the same way whatever the address, so the request's time tells
  nothing; the jobs process looks the address up, makes the link or code and queues the message,
  and deletes the row (models/accounts/mail_requests.py). `ticket` is a sign-in code's
  "check your inbox" token.
"""

import datetime

from peewee import CharField
from peewee import DateTimeField
from peewee import Model


def up(migrator, db):
    class MailRequest(Model):
        kind = CharField()
        email = CharField()
        ticket = CharField(null=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)

        class Meta:
            database = db
            table_name = "mail_request"

    db.create_tables([MailRequest])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "mail_request"')
