"""Who signs in: the User row (customers, staff, the owner), passwords, emailed links and codes,
and the security log a customer can read.

Everything else builds on this package; it builds on nothing but the database. A User's group
and default addresses are deferred foreign keys, completed by models/groups/ and
models/accounts/addresses.py (create_app loads every model).

Called from outside: user.py (`User`, `authenticate`, `normalize_email`, `same_mailbox`, the roles),
passwords.py (`hash_password`, `verify_password`, `common_passwords`), tokens.py (`issue`,
`find_by_link`, `check_code`, `use`), security_log.py (`record_event(…, client=…)`, `events_of`).
"""
