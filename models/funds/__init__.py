"""Money: the ledger at the bottom, and everything customers hold, owe and move through it —
top-ups, credit (limits, terms, requests, paying back), the owner's adjustments, the signup
bonus, monthly statements, and the history customers read.

ledger.py owns every money movement (double-entry, append-only, guarded debits, idempotency
keys) and knows accounts and journals only; customer_accounts.py opens customers' accounts
with the limit the ledger enforces (`account_for`), credit.py keeps it right. Views never
write ledger rows.

Called from outside: ledger.py (`transfer`, `Leg`, `system_account`, `check_ledger`),
customer_accounts.py (`account_for`), holds.py (`journal_key`: the keys of an order's hold, its
capture and release), credit.py (`owed_by`, `amount_owed`, `record_bank_payment`,
`refresh_credit_limit`),
credit_requests.py (`request_credit`, `decide_credit`), top_ups.py (`start_top_up`,
`refresh_top_up`, `reconcile_top_ups`), adjustments.py (`adjust`, `decide_adjustment`),
signup_bonus.py, statements.py (`issue_statements`, `enforce_credit_terms`), history.py
(`history`, `all_entries`, `described`, `entries_of`).
"""
