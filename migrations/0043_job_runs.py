"""Daily jobs recorded per shop day (issue 25).

`job_run`: one row per daily job (the nightly backup, the nightly ledger check) and shop day,
claimed before the job works and finished after it (models/operations/daily_jobs.py). A scheduler
taking over the same day finds the day claimed and does not run the job again.
"""

from peewee import CharField
from peewee import DateField
from peewee import DateTimeField
from peewee import Model


def up(migrator, db):
    class JobRun(Model):
        job = CharField()
        day = DateField()
        started_at = DateTimeField()
        finished_at = DateTimeField(null=True)
        host = CharField()

        class Meta:
            database = db
            table_name = "job_run"
            indexes = ((("job", "day"), True),)

    db.create_tables([JobRun])


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS "job_run"')
