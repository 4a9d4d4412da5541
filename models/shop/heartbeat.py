"""When each recurring job last ran, so /healthz and the owner can see the scheduler is alive."""

from peewee import CharField
from peewee import DateTimeField

from models.base import BaseModel
from models.base import to_naive_utc
from models.base import write_transaction


class Heartbeat(BaseModel):
    name = CharField(primary_key=True)
    at = DateTimeField()


def beat(name, now):
    with write_transaction():
        Heartbeat.insert(name=name, at=to_naive_utc(now)).on_conflict(
            conflict_target=[Heartbeat.name], update={Heartbeat.at: to_naive_utc(now)}
        ).execute()


def last_beat(name):
    row = Heartbeat.get_or_none(Heartbeat.name == name)
    return row.at if row else None
