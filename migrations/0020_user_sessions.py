"""Sessions, one row per sign-in: signing out ends that session on the server, and a password
change or "sign out other devices" ends the others. They replace the one session token per user,
which could only end every session at once."""

from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import Model


def up(migrator, db):
    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class UserSession(Model):
        user = ForeignKeyField(User, on_delete="CASCADE", index=True)
        token_hash = CharField(unique=True)
        created_at = DateTimeField()
        last_used_at = DateTimeField()
        ended_at = DateTimeField(null=True, index=True)
        ip = CharField(default="")
        user_agent = CharField(default="")

        class Meta:
            database = db
            table_name = "user_session"

    db.create_tables([UserSession])
    db.execute_sql('DROP INDEX IF EXISTS "user_session_token"')
    db.execute_sql('ALTER TABLE "user" DROP COLUMN "session_token"')


def down(migrator, db):
    db.execute_sql('DROP TABLE "user_session"')
    # Every account gets a fresh token: all sessions had ended with their table anyway.
    db.execute_sql('ALTER TABLE "user" ADD COLUMN "session_token" VARCHAR(255) NOT NULL DEFAULT \'\'')
    db.execute_sql('UPDATE "user" SET "session_token" = \'reset-\' || "id"')
    db.execute_sql('CREATE UNIQUE INDEX "user_session_token" ON "user" ("session_token")')
