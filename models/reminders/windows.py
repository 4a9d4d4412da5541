"""When reminders may go: windows.

A reminder goes out in a *window*. In `dispatch` mode a window is the
`window_minutes` before each of the day's dispatch times (closed dates have
none), so a customer who pays after the reminder still ships in that dispatch.
In `after_order` mode every hour outside the quiet hours is a window, and an
order is reminded once it is `hours_after_order` old. A window's key is its
local date and time, so a window that a daylight-saving change repeats or
shortens is still one batch.
"""

import datetime
from dataclasses import dataclass

from models.reminders.settings import AFTER_ORDER
from models.reminders.settings import DISPATCH
from models.reminders.settings import load_reminder_settings
from models.shop.settings import load_settings

UTC = datetime.UTC


@dataclass(frozen=True)
class Window:
    key: str
    start: datetime.datetime  # aware UTC
    end: datetime.datetime
    dispatch_at: datetime.datetime | None  # the dispatch it leads to (dispatch mode)

    def is_open(self, at):
        return self.start <= at < self.end


def local_moment(day, time, tz):
    """`time` on `day` in `tz`, as aware UTC. A time a spring-forward skips is read with the
    offset before the change (02:30 becomes 03:30), so it still exists, once."""
    return datetime.datetime.combine(day, time, tzinfo=tz).astimezone(UTC)


def dispatches(settings, tz, first_day, days=15):
    """(local day, dispatch time, aware UTC instant) of every dispatch from `first_day` on."""
    times = settings.times_by_weekday()
    closed = settings.closed()
    for offset in range(days):
        day = first_day + datetime.timedelta(days=offset)
        if day in closed:
            continue
        # By instant, not by clock time: on a spring-forward day a skipped 01:30 is 02:30 summer
        # time, later than a 02:00 that comes after it on the clock.
        yield from sorted(
            ((day, time, local_moment(day, time, tz)) for time in times[day.weekday()]), key=lambda d: d[2]
        )


def next_dispatch(at, settings=None, tz=None):
    """The first dispatch at or after `at` (aware UTC), or None if none is set in two weeks."""
    settings = settings or load_reminder_settings()
    tz = tz or load_settings().tz
    for _day, _time, moment in dispatches(settings, tz, at.astimezone(tz).date()):
        if moment > at:
            return moment
    return None


def next_dispatch_to_announce(at):
    """The next dispatch an order paid at `at` (UTC, naive or aware) can be told about: only when the
    shop works by dispatch times (reminders in dispatch mode), else None."""
    settings = load_reminder_settings()
    if settings.mode != DISPATCH:
        return None
    return next_dispatch(at if at.tzinfo else at.replace(tzinfo=UTC), settings)


def _is_quiet(local_time, settings):
    start = datetime.time.fromisoformat(settings.quiet_start)
    end = datetime.time.fromisoformat(settings.quiet_end)
    if start == end:
        return False
    if start < end:
        return start <= local_time < end
    return local_time >= start or local_time < end  # across midnight


def next_window(at, settings=None, tz=None):
    """The window open at `at`, else the next one to open (None if none in two weeks)."""
    settings = settings or load_reminder_settings()
    tz = tz or load_settings().tz
    at = at.astimezone(UTC)
    if settings.mode == AFTER_ORDER:
        return _next_hour_window(at, settings, tz)
    length = datetime.timedelta(minutes=settings.window_minutes)
    for day, time, moment in dispatches(settings, tz, at.astimezone(tz).date() - datetime.timedelta(days=1)):
        if moment > at:
            key = f"dispatch:{day.isoformat()}T{time:%H:%M}"
            return Window(key, moment - length, moment, moment)
    return None


def _next_hour_window(at, settings, tz):
    local = at.astimezone(tz)
    hour = local.replace(minute=0, second=0, microsecond=0)
    for _ in range(48):
        start = hour.astimezone(UTC)
        if not _is_quiet(hour.time(), settings):
            fold = "b" if hour.fold else ""  # the repeated hour of a fall-back is its own window
            end = start + datetime.timedelta(hours=1)
            # Quiet hours starting within the hour (21:30) end its window there.
            quiet_from = local_moment(hour.date(), datetime.time.fromisoformat(settings.quiet_start), tz)
            if start < quiet_from < end:
                end = quiet_from
            return Window(f"hour:{hour:%Y-%m-%dT%H}:00{fold}", start, end, None)
        hour = (start + datetime.timedelta(hours=1)).astimezone(tz)
    return None


def open_window(at, settings=None, tz=None):
    window = next_window(at, settings, tz)
    return window if window is not None and window.is_open(at.astimezone(UTC)) else None
