"""What an import reports: a Result per order, the ImportReport, and the report kept for the owner.

Reasons and warnings are lazy messages (models/marketplace/checking.py): a kept report stores each as
its English message and values (`kept`), so the owner reads it in the language of their page
(`reason_text`, when the report is read), whoever imported it in whatever language. A lazy
message is never put in a page as it is (Flask-Babel's lazy strings count as safe HTML, and
reasons quote what the file said): pages show `reason_text` of it. Reports kept before issue 23 hold plain
English text, shown as it is. The API answers with the text in the request's language.
"""

import json
from dataclasses import dataclass
from dataclasses import field

from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_babel import LazyString
from peewee import CharField
from peewee import DateTimeField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import TextField

from models.base import BaseModel
from models.base import utcnow
from models.users.user import User

IMPORTED, ALREADY_IMPORTED, REJECTED = "imported", "already_imported", "rejected"


OUTCOME_LABELS = {
    IMPORTED: lazy_gettext("Imported"),
    ALREADY_IMPORTED: lazy_gettext("Already imported"),
    REJECTED: lazy_gettext("Rejected"),
}


def kept(message):
    """A reason as a report keeps it: a lazy message as {"message": its English text, "values": its
    values, kept the same way}; anything else as it is."""
    if isinstance(message, LazyString):
        message_id, *_ = message._args
        return {
            "message": message_id,
            "values": {name: kept(value) for name, value in message._kwargs.items()},
        }
    return message


def reason_text(reason):
    """A reason (lazy, kept or plain text) in the active language."""
    if isinstance(reason, dict) and "message" in reason:
        values = {name: reason_text(value) for name, value in (reason.get("values") or {}).items()}
        return gettext(reason["message"], **values) if values else gettext(reason["message"])
    return reason if isinstance(reason, int | float) else str(reason)


MAX_REASONS = 20  # per order in a report


class MarketplaceImport(BaseModel):
    """The report of one import that saved or found at least one order."""

    source = CharField()  # csv | api
    filename = CharField(default="")
    actor = ForeignKeyField(User, null=True, on_delete="SET NULL")
    imported = IntegerField(default=0)
    already_imported = IntegerField(default=0)
    rejected = IntegerField(default=0)
    report = TextField(default="[]")
    created_at = DateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "marketplace_import"

    @property
    def results(self):
        return [Result.from_dict(entry) for entry in json.loads(self.report)]

    @property
    def source_label(self):
        return gettext("CSV upload") if self.source == "csv" else gettext("API")


def recent_imports(limit=10):
    return list(MarketplaceImport.select().order_by(MarketplaceImport.id.desc()).limit(limit))


@dataclass
class RawItem:
    where: str  # "line 5" or "lines[0]": used in messages
    values: dict  # product_slug, name, quantity, unit_price


@dataclass
class RawOrder:
    """One order as it came in, before any checking."""

    labels: dict  # internal key -> the name the sender used ("shipping_country", "shipping_address.country")
    values: dict = field(default_factory=dict)
    items: list = field(default_factory=list)
    lines: list = field(default_factory=list)  # CSV line numbers
    index: int | None = None  # position in the JSON "orders" list
    problems: list = field(default_factory=list)  # found while reading (shape, rows that disagree)
    notes: list = field(default_factory=list)  # warnings found while reading
    first_lines: dict = field(default_factory=dict)  # CSV: key -> the line that gave its value


def describe_lines(lines):
    """ "line 5", "lines 5–7" or "lines 5, 9" in the active language."""
    if not lines:
        return ""
    if len(lines) == 1:
        return gettext("line %(number)d", number=lines[0])
    if lines == list(range(lines[0], lines[-1] + 1)):
        return gettext("lines %(first)d–%(last)d", first=lines[0], last=lines[-1])
    return gettext("lines %(numbers)s", numbers=", ".join(str(n) for n in lines))


@dataclass
class Result:
    """What happened to one order of an import."""

    outcome: str
    channel: str = ""
    order_ref: str = ""
    lines: list = field(default_factory=list)
    index: int | None = None
    order_id: int | None = None
    number: str = ""
    customer_id: int | None = None
    new_customer: bool = False
    reasons: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def where(self):
        if self.index is not None:
            return f"orders[{self.index}]"
        return describe_lines(self.lines)

    @property
    def outcome_label(self):
        return OUTCOME_LABELS[self.outcome]

    def as_dict(self):
        return {
            "outcome": self.outcome,
            "channel": self.channel,
            "order_ref": self.order_ref,
            "lines": self.lines,
            "index": self.index,
            "order_id": self.order_id,
            "number": self.number,
            "customer_id": self.customer_id,
            "new_customer": self.new_customer,
            "reasons": [kept(reason) for reason in self.reasons[:MAX_REASONS]],
            "warnings": [kept(warning) for warning in self.warnings[:MAX_REASONS]],
        }

    @classmethod
    def from_dict(cls, data):
        """A kept result, its reasons and warnings read in the active language."""
        result = cls(**{name: data.get(name) for name in cls.__dataclass_fields__ if name in data})
        result.reasons = [reason_text(reason) for reason in result.reasons or []]
        result.warnings = [reason_text(warning) for warning in result.warnings or []]
        return result

    def for_api(self):
        """The JSON endpoint's answer for this order."""
        answer = {"index": self.index, "channel": self.channel, "order_ref": self.order_ref}
        answer["result"] = self.outcome
        if self.number:
            answer["order_number"] = self.number
        if self.outcome == IMPORTED:
            answer["new_customer"] = self.new_customer
        if self.reasons:
            answer["reasons"] = [reason_text(reason) for reason in self.reasons[:MAX_REASONS]]
        if self.warnings:
            answer["warnings"] = [reason_text(warning) for warning in self.warnings[:MAX_REASONS]]
        return answer


@dataclass
class ImportReport:
    results: list = field(default_factory=list)
    file_errors: list = field(default_factory=list)  # the whole file was refused
    notices: list = field(default_factory=list)  # e.g. columns that were ignored
    batch_id: int | None = None

    def count(self, outcome):
        return sum(1 for result in self.results if result.outcome == outcome)

    @property
    def imported(self):
        return self.count(IMPORTED)

    @property
    def already_imported(self):
        return self.count(ALREADY_IMPORTED)

    @property
    def rejected(self):
        return self.count(REJECTED)

    @property
    def anything_valid(self):
        return not self.file_errors and (self.imported or self.already_imported)
