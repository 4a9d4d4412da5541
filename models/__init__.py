"""Peewee models and the domain operations on them.

Views call functions from these modules; business rules live here, once.
"""

# Models that complete User's deferred foreign keys (addresses, groups) are
# loaded with the package, so User is whole wherever it is used.
from models import address as _address  # noqa: E402, F401
from models import groups as _groups  # noqa: E402, F401
