"""Many payments at the same moment, in separate processes: the year's invoice numbers stay gap-free
and unique (SQLite: BEGIN IMMEDIATE serializes the writers; PostgreSQL: the counter row's lock).

Like tests/funds/test_ledger_race.py: workers from a fork server, each with its own app and
connection, released together by a barrier; each records the bank transfer of a different order.
"""

import multiprocessing
import traceback

from models.base import connection
from models.orders.fulfilment import receive_bank_transfer
from models.orders.invoice import Invoice
from models.orders.order import BANK
from models.orders.order import Order
from models.orders.order import PAID
from shop import create_app
from tests.conftest import app_config
from tests.factories import placed_order

PROCESSES = 12

context = multiprocessing.get_context("forkserver")
context.set_forkserver_preload(["shop"])


def _worker(url, instance_path, order_id, barrier, results):
    outcome = {"order": order_id, "errors": []}
    try:
        app = create_app(app_config(url, instance_path))
        with app.test_request_context(), connection():
            order = Order.get_by_id(order_id)
            barrier.wait(timeout=60)
            receive_bank_transfer(order, None)
    except Exception:
        outcome["errors"].append(traceback.format_exc())
    results.put(outcome)


def test_payments_racing_in_separate_processes_get_numbers_without_gap_or_duplicate(
    app, tmp_path, make_customer, make_product
):
    with app.test_request_context():
        product = make_product(price=1500, stock=100)
        orders = [
            placed_order(make_customer(), (product, 1), key=f"race-order-{n:08d}", method=BANK)
            for n in range(PROCESSES)
        ]
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    url = app.config["DATABASE_URL"]
    processes = [
        context.Process(target=_worker, args=(url, tmp_path / f"w{n}", order.id, barrier, results))
        for n, order in enumerate(orders)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert [o["errors"] for o in outcomes if o["errors"]] == []

    invoices = list(Invoice.select().order_by(Invoice.number))
    years = {invoice.local_date.year for invoice in invoices}
    assert len(years) == 1
    year = years.pop()
    assert [i.number for i in invoices] == [f"{year}-{n:06d}" for n in range(1, PROCESSES + 1)]
    assert sorted(i.order_id for i in invoices) == sorted(o.id for o in orders)  # one each
    assert Order.select().where(Order.status == PAID).count() == PROCESSES
