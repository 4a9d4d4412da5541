"""Work done outside web requests: the scheduler process, the job functions it runs, and the
`flask` commands, each in its area's module (shop.py registers them).

Every job function takes `now` (timezone-aware) so tests can pass times in. tick.py lists the
minute tick's work; scheduler.py runs the tick, mail delivery (mail.py) and the nightly backup;
leadership.py keeps it to one scheduler per shop (the lock file of lock.py on SQLite, an advisory
lock on PostgreSQL, where the other hosts' schedulers stand by).
"""
