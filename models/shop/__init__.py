"""Shop-wide services every domain uses: the shop's settings, the audit list, the mail outbox and
the messages put into it, throttling counters, the jobs' heartbeats.

Called from outside: settings.py (`load_settings`, which only reads; `seed_settings`, once, by
`flask migrate`; `update_settings`, `format_money`, `shop_today`), audit.py (`audit`,
`audit_changes`), mail.py (`send_templated`, `send_text`, `absolute_url`: links built from the
shop's public address; `unlinkable` for what someone typed), outbox.py (the outbox's states,
driven by jobs/mail.py: `due_message_ids`, `claim`, `finish`, `record_retry`, `send_again`;
`may_send_unasked`, the per-recipient cap), throttle.py, heartbeat.py, legal.py (the legal pages:
`page_text`, `save_page`, `terms_version`; their default texts in legal_texts.py).
"""
