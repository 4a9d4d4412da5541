"""Time-driven work: the scheduler process and the job functions it runs.

Every job function takes `now` (timezone-aware) so tests can pass times in.
"""
