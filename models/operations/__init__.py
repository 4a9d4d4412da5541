"""Running the shop: migrations, backups and restores, the move to PostgreSQL, demo data, and
the health report /healthz and the dashboard show.

Called from outside (mostly the `flask` commands and the jobs): migrate.py
(`apply_migrations`, which also saves the shop's settings on the first run), backup.py
(`make_backup`, `restore_backup`, `restore_pg_dump`), copy_database.py (`copy_to_postgres`), demo.py
(`load_demo_data`), health.py (`health_report`).
"""
