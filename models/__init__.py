"""Peewee models and the domain operations on them.

Views call functions from these modules; business rules live here, once.
"""

# Models that complete User's deferred foreign keys (addresses, groups) are
# loaded with the package, so User is whole wherever it is used. Affiliates
# hooks the affiliate reward into paying an order (models.orders.paid_hooks), so
# every process that can pay an order pays the reward too.
from models import address as _address  # noqa: E402, F401
from models import affiliates as _affiliates  # noqa: E402, F401
from models import groups as _groups  # noqa: E402, F401
