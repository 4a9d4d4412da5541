"""The owner's payment reminder forms: settings, the three templates, category paragraphs."""

import datetime
import json
import re

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
    zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
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
            raise ValueError("Use at most 24 dispatch times a day.")
        times = set()
        for word in words:
            time = parse_time(word)
            if time is None:
                raise ValueError(f'"{word[:20]}" is not a time. Write times like 11:00, 17:00.')
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
            raise ValueError(f'"{text[:20]}" is not a time. Write it like 21:00.')


def time_of_day(label, description):
    return TimeOfDayField(
        label,
        description=description,
        validators=[InputRequired("Enter a time like 21:00.")],
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
            raise ValueError(f"Use at most {CLOSED_DATES_MAX} dates.")
        days = set()
        for word in words:
            try:
                if not DATE_SHAPE.fullmatch(word):
                    raise ValueError(word)
                days.add(datetime.date.fromisoformat(word))
            except ValueError:
                raise ValueError(
                    f'"{word[:20]}" is not a date. Write one date a line as year-month-day, like 2026-12-24.'
                ) from None
        self.data = sorted(days)


def whole_number(label, minimum, maximum, noun, description):
    return WholeNumberField(
        label,
        minimum=minimum,
        maximum=maximum,
        noun=noun,
        missing=f"Enter the {noun}, between {minimum} and {maximum}.",
        description=description,
    )


def times_field(day):
    return TimesField(
        WEEKDAY_NAMES[day],
        render_kw={"autocomplete": "off", "spellcheck": "false", "placeholder": "No dispatch"},
    )


class ReminderSettingsForm(FlaskForm):
    enabled = BooleanField("Send payment reminders")
    mode = RadioField(
        "When reminders go out",
        choices=[
            SelectChoice(DISPATCH, "In the window before each dispatch"),
            SelectChoice(AFTER_ORDER, "A set number of hours after the order, outside quiet hours"),
        ],
        default=DISPATCH,
        validators=[InputRequired("Choose when reminders go out.")],
    )
    times_mon = times_field("mon")
    times_tue = times_field("tue")
    times_wed = times_field("wed")
    times_thu = times_field("thu")
    times_fri = times_field("fri")
    times_sat = times_field("sat")
    times_sun = times_field("sun")
    window_minutes = whole_number(
        "Reminder window (minutes before a dispatch)",
        5,
        600,
        "window length",
        "60 sends reminders in the hour before each dispatch, e.g. 10:00–11:00 for an 11:00 dispatch.",
    )
    closed_dates = DatesField(
        "Closed dates",
        description="One date a line, like 2026-12-24. No dispatch, and so no reminders, on these days.",
        validators=[Optional(), Length(max=5000, message="Use at most 5000 characters.")],
        render_kw={"rows": 4, "autocomplete": "off", "spellcheck": "false"},
    )
    hours_after_order = whole_number(
        "Hours after the order", 1, 72, "number of hours", "Used when reminders go out after the order."
    )
    quiet_start = time_of_day("Quiet hours start", "No reminders from this time…")
    quiet_end = time_of_day("Quiet hours end", "…until this time (the next morning if it is earlier).")
    min_age_minutes = whole_number(
        "Minimum order age (minutes)",
        0,
        1440,
        "minimum age",
        "A customer who ordered a moment ago is probably paying right now: wait this long.",
    )
    cancel_margin_hours = whole_number(
        "Skip orders cancelled within (hours)",
        0,
        168,
        "number of hours",
        "An order whose automatic cancellation is this close gets no reminder.",
    )
    max_per_order = whole_number(
        "Reminders per order at most",
        1,
        10,
        "number of reminders",
        "A customer never gets more than one a day.",
    )
    reorder_hours = whole_number(
        "Re-order time (hours)",
        0,
        168,
        "re-order time",
        "An unpaid order gets no reminder once the customer has placed another order within this "
        "many hours after it and paid that one: they ordered again. 0 turns this off.",
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
        }


def known_placeholders(form, field):
    unknown = unknown_placeholders(field.data or "")
    if not unknown:
        return
    names = [f"{{{name}}}" for name in unknown]
    if len(names) == 1:
        said = f"{names[0]} is not a placeholder"
    else:
        said = f"{', '.join(names[:-1])} and {names[-1]} are not placeholders"
    raise ValidationError(
        f"{said}; use one from the list of placeholders, or write {{{{ and }}}} for a brace."
    )


class ReminderTemplateForm(FlaskForm):
    subject = StringField(
        "Subject",
        validators=[
            DataRequired("Write the email's subject."),
            Length(max=SUBJECT_MAX, message=f"Use at most {SUBJECT_MAX} characters in the subject."),
            plain_text,
            known_placeholders,
        ],
        filters=[clean_text],
        render_kw={"autocomplete": "off"},
    )
    body = TextAreaField(
        "Message",
        validators=[
            DataRequired("Write the message."),
            Length(max=BODY_MAX, message=f"Use at most {BODY_MAX} characters in the message."),
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
                        message=f"Use at most {PARAGRAPH_MAX} characters for {category.name}.",
                    ),
                    plain_text,
                ],
                filters=[clean_text],
                default=texts.get(category.id, ""),
                render_kw={"rows": 3},
            ),
        )
    return CategoryParagraphsForm()
