"""The admin audit list: who did what, when, with the before and after."""

import json

from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.users.user import User


class AuditEntry(BaseModel):
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    action = CharField(index=True)
    target = CharField(default="")
    before = TextField(default="")
    after = TextField(default="")
    at = DateTimeField(default=utcnow, index=True)

    @property
    def before_data(self):
        return json.loads(self.before) if self.before else None

    @property
    def after_data(self):
        return json.loads(self.after) if self.after else None


def audit(actor, action, target="", before=None, after=None):
    """Record one admin action; call it inside the action's own transaction."""
    return AuditEntry.create(
        actor=actor,
        action=action,
        target=target,
        before=json.dumps(before, sort_keys=True, default=str) if before is not None else "",
        after=json.dumps(after, sort_keys=True, default=str) if after is not None else "",
    )


def audit_changes(actor, action, target, current, changes):
    """Audit the fields of `changes` that differ on the row `current` (none: no entry);
    returns them. Call it inside the change's own transaction."""
    changed = {name: value for name, value in changes.items() if getattr(current, name) != value}
    if changed:
        audit(actor, action, target, before={name: getattr(current, name) for name in changed}, after=changed)
    return changed


def recent_entries(limit=100, offset=0):
    return list(
        AuditEntry.select().order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    )
