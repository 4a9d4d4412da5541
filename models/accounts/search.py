"""Finding customers for the owner's customer list: by name, email or phone, newest first, with
each one's group and balance."""

import operator
import re
import unicodedata
from functools import reduce

import phonenumbers
from peewee import fn
from peewee import JOIN

from models.funds.ledger import LedgerAccount
from models.groups.group import CustomerGroup
from models.users.user import CUSTOMER
from models.users.user import User

QUERY_MAX = 100  # longer searches are cut: nobody's name or email needs more
WORDS_MAX = 6
PHONE_LIKE = re.compile(r"^[\d\s+().\-/]+$")


def clean_query(text):
    """The search as typed, made safe: NFC, no control or invisible characters, trimmed, capped."""
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs", "Cn"))
    return " ".join(text.split())[:QUERY_MAX].strip()


def customers(text="", country="GB"):
    """Customers (blocked ones included, anonymised deleted ones not) matching `text`, newest first.

    Every word must appear in the first name, last name or email; or the whole
    search matches the phone number, typed the way people write it at home
    ("07700 900123" finds the stored "+447700900123").
    """
    query = User.select().where((User.role == CUSTOMER) & User.deleted_at.is_null())
    text = clean_query(text)
    if text:
        matches = [_words_match(text)]
        phone = _phone_match(text, country)
        if phone is not None:
            matches.append(phone)
        query = query.where(reduce(operator.or_, matches))
    return query.order_by(User.created_at.desc(), User.id.desc())


def with_group_and_balance(query):
    """`query`'s customers, each with `group_name` (their group's, the default one's when they
    have none) and `balance` (the cached balance of their ledger account, 0 without one), in the
    same single query: two LEFT JOINs on unique keys. Count the plain query, page this one."""
    default_name = CustomerGroup.select(CustomerGroup.name).where(CustomerGroup.is_default == True)  # noqa: E712
    return (
        query.select_extend(
            fn.COALESCE(CustomerGroup.name, default_name).alias("group_name"),
            fn.COALESCE(LedgerAccount.balance, 0).alias("balance"),
        )
        .join(CustomerGroup, JOIN.LEFT_OUTER, on=(User.group == CustomerGroup.id))
        .switch(User)
        .join(LedgerAccount, JOIN.LEFT_OUTER, on=(LedgerAccount.user == User.id))
        .objects()
    )


def _words_match(text):
    conditions = []
    for word in text.split()[:WORDS_MAX]:
        # LIKE ignores case for ASCII only on SQLite (PostgreSQL's ILIKE folds everything):
        # the usual spellings of a non-ASCII word cover "élodie" finding "Élodie".
        variants = {word, word.lower(), word.capitalize(), word.upper()}
        conditions.append(
            reduce(
                operator.or_,
                [
                    field.contains(variant)
                    for variant in sorted(variants)
                    for field in (User.first_name, User.last_name, User.email)
                ],
            )
        )
    return reduce(operator.and_, conditions)


def _phone_match(text, country):
    """A condition on User.phone when `text` looks like (part of) a phone number, else None."""
    if not PHONE_LIKE.match(text):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) < 3:
        return None
    conditions = [User.phone.contains(digits)]
    if text.startswith("+") or text.startswith("00"):
        conditions.append(User.phone.startswith("+" + (digits[2:] if text.startswith("00") else digits)))
    else:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(country)
        prefix = metadata.national_prefix if metadata else None
        if prefix and digits.startswith(prefix):
            # Part of a national number: swap the trunk prefix for the country code.
            code = phonenumbers.country_code_for_region(country)
            conditions.append(User.phone.startswith(f"+{code}{digits[len(prefix) :]}"))
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        conditions.append(
            User.phone == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        )
    return reduce(operator.or_, conditions)
