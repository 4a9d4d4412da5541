"""Refunds, all of them: of deposited funds to the card of a top-up (top_ups.py), which customers
ask for on their funds page and the owner decides in Approvals (requests.py), and of paid
orders, in part or in full, to funds or the way they were paid (orders.py).

Both set the money aside before the provider is asked, and ask again later when the answer
is unknown (`retry_pending_refunds`, `retry_pending_card_refunds` on the jobs tick).

An order refunded in full or cancelled after payment takes back the affiliate reward it
earned (gifts.py, which also holds the rule for taking back any gift: what the balance still
holds, never more, the shortfall recorded).

Called from outside: top_ups.py (`refund_summary`, `refund_to_card`), requests.py
(`request_refund`, `refund_offer`, `approve_refund_request`, `decline_refund_request`),
forfeits.py (`money_left`, `forfeit_bonus`: bonus money given up when an account is deleted), orders.py
(`refund_order`, `cancel_paid_order`, `refundable`).
"""
