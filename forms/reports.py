"""The filters every report shares: a period, how to group its days, a customer group, a customer."""

import datetime

from flask import request
from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms import SearchField
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length
from wtforms.validators import Optional

from forms.fields import clean_text
from forms.fields import IdSelectField
from forms.fields import plain_text
from models.groups.group import CustomerGroup
from models.reports.scope import BUCKETS
from models.reports.scope import default_bucket
from models.reports.scope import EARLIEST
from models.reports.scope import MAX_DAYS
from models.reports.scope import preset_days
from models.reports.scope import PRESETS
from models.reports.scope import Scope
from models.users.user import CUSTOMER
from models.users.user import User

FILTERS = ("period", "date_from", "date_to", "by", "group", "customer")


class ReportFilterForm(FlaskForm):
    """A plain GET form: its URL is the bookmark."""

    class Meta:
        csrf = False

    period = SelectField(
        lazy_gettext("Period"),
        choices=[SelectChoice(key, label) for key, label in PRESETS.items()],
        default="this_month",
        validate_choice=False,
    )
    date_from = DateField(lazy_gettext("First day"), validators=[Optional()])
    date_to = DateField(lazy_gettext("Last day"), validators=[Optional()])
    by = SelectField(
        lazy_gettext("Group days by"),
        choices=[SelectChoice("", lazy_gettext("As suits the period"))]
        + [SelectChoice(k, v) for k, v in BUCKETS.items()],
        default="",
        validate_choice=False,
    )
    group = IdSelectField(
        lazy_gettext("Customer group"), default="", message=lazy_gettext("Choose one of the shop's groups.")
    )
    customer = SearchField(
        lazy_gettext("Customer email"),
        validators=[
            Optional(),
            Length(max=254),
            plain_text,
        ],
        filters=[clean_text],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        groups = CustomerGroup.select().order_by(CustomerGroup.name)
        self.group.choices = [SelectChoice("", gettext("All customers"))] + [
            SelectChoice(
                str(group.id),
                gettext("%(name)s (retired)", name=group.name) if group.is_retired else group.name,
            )
            for group in groups
        ]

    def filter_args(self):
        """The filters as URL parameters (for links that keep them): only this form's fields."""
        return {name: value for name in FILTERS if (value := request.args.get(name))}

    def scope(self, today):
        """The Scope the filters ask for and notes on what was adjusted, or None with the
        fields' errors set when they cannot be read."""
        self.validate()
        notes = []
        first, last = self._days(today)
        group_id = self._group_id()
        customer_id = self._customer_id()
        if group_id and customer_id:
            self.customer.errors = [
                *self.customer.errors,
                gettext("Choose a customer group or one customer, not both."),
            ]
        if self.errors or first is None:
            return None, notes
        if last > today:
            last = today
            notes.append(gettext("Figures stop today; the period was cut there."))
        if first > last:
            self.date_from.errors = [
                *self.date_from.errors,
                gettext("Choose a first day on or before today."),
            ]
            return None, notes
        if (last - first).days + 1 > MAX_DAYS:
            first = last - datetime.timedelta(days=MAX_DAYS - 1)
            notes.append(
                gettext(
                    "A report covers at most %(days)d days: it starts on %(first)s.",
                    days=MAX_DAYS,
                    first=first.isoformat(),
                )
            )
        bucket = self.by.data if self.by.data in BUCKETS else default_bucket((last - first).days + 1)
        return Scope(first, last, bucket, group_id, customer_id), notes

    def _days(self, today):
        if self.date_from.data and self.date_to.data:
            self.period.data = "custom"  # two days typed mean those days, whatever the menu says
        if self.period.data not in PRESETS:
            self.period.errors = [gettext("Choose one of the periods.")]
            return None, None
        if self.period.data != "custom":
            return preset_days(self.period.data, today)
        first, last = self.date_from.data, self.date_to.data
        if self.date_from.errors or self.date_to.errors:
            return None, None
        if not first or not last:
            missing = self.date_from if not first else self.date_to
            missing.errors = [*missing.errors, gettext("Enter both days of the period, like 2026-11-30.")]
            return None, None
        if first > last:
            self.date_to.errors = [*self.date_to.errors, gettext("The last day is before the first day.")]
            return None, None
        if first < EARLIEST:
            self.date_from.errors = [*self.date_from.errors, gettext("Choose a day from 1 January 2000 on.")]
            return None, None
        return first, last

    def _group_id(self):
        return None if self.group.errors else self.group.data

    def _customer_id(self):
        if not self.customer.data or self.customer.errors:
            return None
        customer = User.by_email(self.customer.data)
        if customer is None or customer.role != CUSTOMER:
            self.customer.errors = [*self.customer.errors, gettext("No customer has this email address.")]
            return None
        return customer.id
