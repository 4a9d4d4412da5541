"""Invoices and credit notes as documents: the structure the law asks for (document.py), its PDF
(pdf.py) and the owner's lists per period (listing.py).

Issuing them is done where the money moves: the invoice with the payment
(models/orders/invoice.py, called by `mark_paid`), the credit note with the refund that gave money
back (models/refunds/credit_notes.py). This package only reads them.
"""
