"""Credit terms on the tick: last month's statements once, and blocking credit when debt falls overdue."""

from jobs.tick import due_work
from models.statements import enforce_credit_terms
from models.statements import issue_statements


@due_work
def credit_terms(now):
    issue_statements(now)
    enforce_credit_terms(now)
