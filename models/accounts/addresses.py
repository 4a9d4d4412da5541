"""The address book: any number of addresses, one default billing and one default shipping."""

from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField

from models.base import BaseModel
from models.base import utcnow
from models.base import write_transaction
from models.shop.language import country_name
from models.users.security_log import NO_CLIENT
from models.users.security_log import record_event
from models.users.user import User

ADDRESS_FIELDS = (
    "full_name",
    "company",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
)


class Address(BaseModel):
    user = ForeignKeyField(User, backref="addresses", on_delete="CASCADE", index=True)
    full_name = CharField()
    company = CharField(default="")
    line1 = CharField()
    line2 = CharField(default="")
    city = CharField()
    region = CharField(default="")
    postal_code = CharField()
    country = CharField(max_length=2)
    phone = CharField(default="")
    created_at = DateTimeField(default=utcnow)

    def lines(self):
        """The address as the lines of an envelope, the country by its name in the shop's language."""
        parts = [
            self.full_name,
            self.company,
            self.line1,
            self.line2,
            " ".join(part for part in (self.city, self.region, self.postal_code) if part),
            country_name(self.country),
        ]
        return [part for part in parts if part]

    def as_dict(self):
        return {name: getattr(self, name) for name in ADDRESS_FIELDS}


def addresses_of(user):
    return list(Address.select().where(Address.user == user).order_by(Address.created_at, Address.id))


def address_of(user, address_id):
    """The user's address with this id, or None (another customer's id is just 'not found')."""
    return Address.get_or_none((Address.id == address_id) & (Address.user == user))


def add_address(
    user, fields, make_default_billing=False, make_default_shipping=False, actor="customer", client=NO_CLIENT
):
    with write_transaction():
        address = Address.create(user=user, **_clean(fields))
        _set_defaults(user, address, make_default_billing, make_default_shipping)
        record_event(user, "address_added", ", ".join(address.lines()), actor=actor, client=client)
    return address


def update_address(
    user,
    address,
    fields,
    make_default_billing=False,
    make_default_shipping=False,
    actor="customer",
    client=NO_CLIENT,
):
    before = ", ".join(address.lines())
    with write_transaction():
        for name, value in _clean(fields).items():
            setattr(address, name, value)
        address.save()
        _set_defaults(user, address, make_default_billing, make_default_shipping)
        record_event(
            user, "address_changed", f"{before} → {', '.join(address.lines())}", actor=actor, client=client
        )
    return address


def delete_address(user, address, actor="customer", client=NO_CLIENT):
    """Remove an address; a default it held passes to the oldest remaining address."""
    with write_transaction():
        address.delete_instance()
        user = User.get_by_id(user.id)
        remaining = addresses_of(user)
        changes = {}
        if user.default_billing_id is None and remaining:
            changes[User.default_billing] = remaining[0].id
        if user.default_shipping_id is None and remaining:
            changes[User.default_shipping] = remaining[0].id
        if changes:
            User.update(changes).where(User.id == user.id).execute()
        record_event(user, "address_deleted", ", ".join(address.lines()), actor=actor, client=client)


def _set_defaults(user, address, billing, shipping):
    current = User.get_by_id(user.id)
    changes = {}
    if billing or current.default_billing_id is None:
        changes[User.default_billing] = address.id
    if shipping or current.default_shipping_id is None:
        changes[User.default_shipping] = address.id
    if changes:
        User.update(changes).where(User.id == user.id).execute()
        for field, value in changes.items():
            setattr(user, field.name + "_id", value)


def _clean(fields):
    return {name: (fields.get(name) or "").strip() for name in ADDRESS_FIELDS if name in fields}
