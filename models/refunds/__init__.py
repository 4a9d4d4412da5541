"""Refunds, all of them: of deposited funds to the card of a top-up (top_ups.py) and of paid
orders, in part or in full, to funds or the way they were paid (orders.py).

Both set the money aside before the provider is asked, and ask again later when the answer
is unknown (`retry_pending_refunds`, `retry_pending_card_refunds` on the jobs tick).

Called from outside: top_ups.py (`refund_summary`, `refund_to_card`), orders.py
(`refund_order`, `cancel_paid_order`, `refundable`).
"""
