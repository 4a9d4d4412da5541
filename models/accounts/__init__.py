"""What customers (and the shop, for them) do with accounts: the four-step registration,
confirming the email ("check your inbox"), sign-in codes, password reset and change, email
change, profile and addresses, data download and deletion; the shop creating, pausing and
finding customers, and granting the staff role.

Operations that run in a web request take the `client` the views pass in (models/users/
security_log.py) for the security log.

Called from outside: registration.py, inbox.py, credentials.py, mail_requests.py (requests for a
reset link or a sign-in code, answered by jobs/accounts.py), profile.py, addresses.py,
administration.py (`create_user`, `create_customer_for_owner`, `set_blocked`), search.py,
staff.py.
"""
