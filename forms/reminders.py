"""The owner's payment reminder forms: settings, the three templates, category paragraphs."""

import datetime
import json
import re

from flask_babel import gettext
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import RadioField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms import ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional

from forms.fields import clean_text
from forms.fields import plain_text
from forms.fields import WholeNumberField
from models.reminders.messages import unknown_placeholders
from models.reminders.settings import AFTER_ORDER
from models.reminders.settings import DISPATCH
from models.reminders.settings import WEEKDAYS

WEEKDAY_NAMES = dict(
    zip(
        WEEKDAYS,
        (
            lazy_gettext("Monday"),
            lazy_gettext("Tuesday"),
            lazy_gettext("Wednesday"),
            lazy_gettext("Thursday"),
            lazy_gettext("Friday"),
            lazy_gettext("Saturday"),
            lazy_gettext("Sunday"),
        ),
        strict=True,
    )
)
TIME_SHAPE = re.compile(r"([0-9]{1,2})[:.]([0-9]{2})")
DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CLOSED_DATES_MAX = 400
SUBJECT_MAX = 150
BODY_MAX = 5000
PARAGRAPH_MAX = 1000


def parse_time(text):
    """ "9:05" or "09.05" → "09:05"; None if it isn't a time of day."""
    match = TIME_SHAPE.fullmatch(text.strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


class TimesField(StringField):
    """A day's dispatch times typed as "11:00, 17:00": held as a sorted list of "HH:MM"."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return ", ".join(self.data or [])

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.raw_data = valuelist
        self.data = []
        words = [word for word in re.split(r"[\s,;]+", valuelist[0] or "") if word]
        if len(words) > 24:
            raise ValueError(gettext("Use at most 24 dispatch times a day."))
        times = set()
        for word in words:
            time = parse_time(word)
            if time is None:
                raise ValueError(
                    gettext('"%(word)s" is not a time. Write times like 11:00, 17:00.', word=word[:20])
                )
            times.add(time)
        self.data = sorted(times)


class TimeOfDayField(StringField):
    """One time of day, "HH:MM"."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data or ""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.raw_data = valuelist
        text = (valuelist[0] or "").strip()
        self.data = parse_time(text) if text else None
        if text and self.data is None:
            raise ValueError(gettext('"%(word)s" is not a time. Write it like 21:00.', word=text[:20]))


def time_of_day(label, description):
    return TimeOfDayField(
        label,
        description=description,
        validators=[InputRequired(lazy_gettext("Enter a time like 21:00."))],
        render_kw={"class": "input-short", "autocomplete": "off"},
    )


class DatesField(TextAreaField):
    """Dates typed one a line as YYYY-MM-DD: held as a sorted list of datetime.date."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "\n".join(day.isoformat() for day in self.data or [])

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.raw_data = valuelist
        self.data = []
        words = [word for word in re.split(r"[\s,;]+", valuelist[0] or "") if word]
        if len(words) > CLOSED_DATES_MAX:
            raise ValueError(gettext("Use at most %(count)d dates.", count=CLOSED_DATES_MAX))
        days = set()
        for word in words:
            try:
                if not DATE_SHAPE.fullmatch(word):
                    raise ValueError(word)
                days.add(datetime.date.fromisoformat(word))
            except ValueError:
                raise ValueError(
                    gettext(
                        '"%(word)s" is not a date. Write one date a line as year-month-day, like 2026-12-24.',
                        word=word[:20],
                    )
                ) from None
        self.data = sorted(days)


def whole_number(label, minimum, maximum, noun, description):
    return WholeNumberField(
        label,
        minimum=minimum,
        maximum=maximum,
        noun=noun,
        missing=lazy_gettext(
            "Enter the %(noun)s, between %(minimum)d and %(maximum)d.",
            noun=noun,
            minimum=minimum,
            maximum=maximum,
        ),
        description=description,
    )


def times_field(day):
    return TimesField(
        WEEKDAY_NAMES[day],
        render_kw={"autocomplete": "off", "spellcheck": "false", "placeholder": lazy_gettext("No dispatch")},
    )


class ReminderSettingsForm(FlaskForm):
    enabled = BooleanField(lazy_gettext("Send payment reminders"))
    mode = RadioField(
        lazy_gettext("When reminders go out"),
        choices=[
            SelectChoice(DISPATCH, lazy_gettext("In the window before each dispatch")),
            SelectChoice(
                AFTER_ORDER, lazy_gettext("A set number of hours after the order, outside quiet hours")
            ),
        ],
        default=DISPATCH,
        validators=[InputRequired(lazy_gettext("Choose when reminders go out."))],
    )
    times_mon = times_field("mon")
    times_tue = times_field("tue")
    times_wed = times_field("wed")
    times_thu = times_field("thu")
    times_fri = times_field("fri")
    times_sat = times_field("sat")
    times_sun = times_field("sun")
    window_minutes = whole_number(
        lazy_gettext("Reminder window (minutes before a dispatch)"),
        5,
        600,
        lazy_gettext("window length"),
        lazy_gettext(
            "60 sends reminders in the hour before each dispatch, e.g. 10:00–11:00 for an 11:00 dispatch."
        ),
    )
    closed_dates = DatesField(
        lazy_gettext("Closed dates"),
        description=lazy_gettext(
            "One date a line, like 2026-12-24. No dispatch, and so no reminders, on these days."
        ),
        validators=[Optional(), Length(max=5000, message=lazy_gettext("Use at most 5000 characters."))],
        render_kw={"rows": 4, "autocomplete": "off", "spellcheck": "false"},
    )
    hours_after_order = whole_number(
        lazy_gettext("Hours after the order"),
        1,
        72,
        lazy_gettext("number of hours"),
        lazy_gettext("Used when reminders go out after the order."),
    )
    quiet_start = time_of_day(lazy_gettext("Quiet hours start"), lazy_gettext("No reminders from this time…"))
    quiet_end = time_of_day(
        lazy_gettext("Quiet hours end"), lazy_gettext("…until this time (the next morning if it is earlier).")
    )
    min_age_minutes = whole_number(
        lazy_gettext("Minimum order age (minutes)"),
        0,
        1440,
        lazy_gettext("minimum age"),
        lazy_gettext("A customer who ordered a moment ago is probably paying right now: wait this long."),
    )
    cancel_margin_hours = whole_number(
        lazy_gettext("Skip orders cancelled within (hours)"),
        0,
        168,
        lazy_gettext("number of hours"),
        lazy_gettext("An order whose automatic cancellation is this close gets no reminder."),
    )
    max_per_order = whole_number(
        lazy_gettext("Reminders per order at most"),
        1,
        10,
        lazy_gettext("number of reminders"),
        lazy_gettext("A customer never gets more than one a day."),
    )
    reorder_hours = whole_number(
        lazy_gettext("Re-order time (hours)"),
        0,
        168,
        lazy_gettext("re-order time"),
        lazy_gettext(
            "An unpaid order gets no reminder once the customer has placed another order within this "
            "many hours after it and paid that one: they ordered again. 0 turns this off."
        ),
    )

    holdout_percent = whole_number(
        lazy_gettext("Control group: percentage of customers held out"),
        0,
        50,
        lazy_gettext("share held out"),
        lazy_gettext(
            "This share of customers, picked at random, gets no reminders (all their orders), so the "
            "reminders report can show what reminders change. 10 is a good start; 0 turns it off."
        ),
    )

    def day_fields(self):
        return [self[f"times_{day}"] for day in WEEKDAYS]

    def changes(self, current):
        """The settings as update_reminder_settings() takes them.

        `current` is the ReminderSettings row: where the owner changed nothing (the same times,
        the same closed dates), its stored text is kept as it is (an empty value means "the
        defaults"), so saving the page unchanged changes nothing.
        """
        times = {day: self[f"times_{day}"].data or [] for day in WEEKDAYS}
        now_times = {
            day: [time.strftime("%H:%M") for time in current.times_by_weekday()[index]]
            for index, day in enumerate(WEEKDAYS)
        }
        closed = self.closed_dates.data or []
        return {
            "enabled": bool(self.enabled.data),
            "mode": self.mode.data,
            "dispatch_times": current.dispatch_times if times == now_times else json.dumps(times),
            "closed_dates": (
                current.closed_dates
                if set(closed) == current.closed()
                else "\n".join(day.isoformat() for day in closed)
            ),
            "window_minutes": self.window_minutes.data,
            "hours_after_order": self.hours_after_order.data,
            "quiet_start": self.quiet_start.data,
            "quiet_end": self.quiet_end.data,
            "min_age_minutes": self.min_age_minutes.data,
            "cancel_margin_hours": self.cancel_margin_hours.data,
            "max_per_order": self.max_per_order.data,
            "reorder_hours": self.reorder_hours.data,
            "holdout_percent": self.holdout_percent.data,
        }


def known_placeholders(form, field):
    unknown = unknown_placeholders(field.data or "")
    if not unknown:
        return
    names = [f"{{{name}}}" for name in unknown]
    if len(names) == 1:
        raise ValidationError(
            gettext(
                "%(name)s is not a placeholder; use one from the list of placeholders, or write {{ and }} "
                "for a brace.",
                name=names[0],
            )
        )
    raise ValidationError(
        gettext(
            "%(names)s and %(last)s are not placeholders; use one from the list of placeholders, or "
            "write {{ and }} for a brace.",
            names=", ".join(names[:-1]),
            last=names[-1],
        )
    )


class ReminderTemplateForm(FlaskForm):
    subject = StringField(
        lazy_gettext("Subject"),
        validators=[
            DataRequired(lazy_gettext("Write the email's subject.")),
            Length(
                max=SUBJECT_MAX,
                message=lazy_gettext("Use at most %(count)d characters in the subject.", count=SUBJECT_MAX),
            ),
            plain_text,
            known_placeholders,
        ],
        filters=[clean_text],
        render_kw={"autocomplete": "off"},
    )
    body = TextAreaField(
        lazy_gettext("Message"),
        validators=[
            DataRequired(lazy_gettext("Write the message.")),
            Length(
                max=BODY_MAX,
                message=lazy_gettext("Use at most %(count)d characters in the message.", count=BODY_MAX),
            ),
            plain_text,
            known_placeholders,
        ],
        filters=[clean_text],
        render_kw={"rows": 16},
    )


def category_paragraphs_form(categories, texts):
    """A form with one optional paragraph per category (fields named category_<id>)."""

    class CategoryParagraphsForm(FlaskForm):
        pass

    for category in categories:
        setattr(
            CategoryParagraphsForm,
            f"category_{category.id}",
            TextAreaField(
                category.name,
                validators=[
                    Optional(),
                    Length(
                        max=PARAGRAPH_MAX,
                        message=gettext(
                            "Use at most %(count)d characters for %(name)s.",
                            count=PARAGRAPH_MAX,
                            name=category.name,
                        ),
                    ),
                    plain_text,
                ],
                filters=[clean_text],
                default=texts.get(category.id, ""),
                render_kw={"rows": 3},
            ),
        )
    return CategoryParagraphsForm()
