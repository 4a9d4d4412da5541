"""Credit terms on the tick: last month's statements once, and blocking credit when debt falls overdue."""

from models.funds.statements import enforce_credit_terms
from models.funds.statements import issue_statements


def credit_terms(now):
    issue_statements(now)
    enforce_credit_terms(now)
