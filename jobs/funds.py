"""Funds on the tick: deliver the sandbox's late notifications, reconcile pending top-ups,
ask the provider again about refunds whose outcome is unknown."""

from models.base import to_naive_utc
from models.funds.top_ups import reconcile_top_ups
from models.refunds.top_ups import retry_pending_refunds as retry_refunds
from payments.sandbox import deliver_due_notifications


def deliver_sandbox_notifications(now):
    return deliver_due_notifications(to_naive_utc(now))


def reconcile_pending_top_ups(now):
    return reconcile_top_ups(now)


def retry_pending_refunds(now):
    return retry_refunds(now)
