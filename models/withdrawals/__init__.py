"""The EU withdrawal function (issue 24): a customer withdraws from a paid order, in full or in
part, within 14 days of delivery; the owner refunds it from Approvals.

How long the period lasts and the emailed link: models/orders/withdrawal_period.py (the order
emails need it, and orders sit below this package). The statement, what may be chosen in it and
its acknowledgement: statements.py. The refund (amount, destination, deadline): refunds.py.

Called from outside: statements.py (`choosable_lines`, `can_withdraw`, `record_withdrawal`,
`withdrawals_of`), refunds.py (`pending_withdrawals`, `refund_withdrawal`, `refund_amount`).
"""
