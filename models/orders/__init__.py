"""Orders from placing to paid, dispatched and completed: the tables, the funds/credit/card/bank
breakdown, card payments, cancelling, the emailed pay link, the owner's order search and the
affiliate reward a first paid order earns.

What follows a payment is written in one place, paid.py (`mark_paid`: capture the hold,
record the event, reward the affiliate, email the receipt). A provider's notification reaches
its top-up or order payment through notifications.py. What the customer is told, and when (the
order's first email follows the payment's outcome): messages.py; the email of a card order with
no outcome after 15 minutes: waiting_email.py; the owner's new-order emails: owner_emails.py.

Called from outside: placing.py (`place_order`), breakdown.py (`quote`), card_payments.py
(`start_card_payment`, `pay_order_by_card`, `switch_to_bank`, `reconcile_order_payments`,
`cancel_by_customer`), cancelling.py (`cancel_order`, `auto_cancel_due`), fulfilment.py
(`receive_bank_transfer`, `dispatch`, `complete`), pay_link.py, reorder.py, search.py,
notifications.py (`handle_notification`), waiting_email.py (`send_waiting_emails`),
owner_emails.py (`send_new_order_digest`), order.py (the tables and reads).
"""
