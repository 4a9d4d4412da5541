"""The owner's reports and dashboard: what the shop holds for customers, how it is used, and
whether reminders pay. Each report is a function of a `Scope` (scope.py) returning figures,
a chart and a table; registry.py lists them by name.

Called from outside: registry.py (`REPORTS`, `REPORT_TITLES`), scope.py (`Scope` and the
period helpers), dashboard.py (`dashboard`), order_value.py (`order_value_hints`).
"""
