"""Lists shown a page at a time: the page the URL asks for (?page=), and the pager's links."""

import math
import re
from dataclasses import dataclass
from dataclasses import replace

from flask import request
from flask import url_for


def requested_page():
    """The ?page= number, 1 for anything that isn't a plain small number (never a 500)."""
    raw = request.args.get("page", "")
    return max(1, int(raw)) if re.fullmatch(r"[0-9]{1,6}", raw) else 1


@dataclass(frozen=True)
class Page:
    """Page `number` of a list shown `size` rows at a time.

    `count` is how many pages there are, or None for a list that is not counted: one row more
    than a page is read instead, and `has_more` says whether it was there.
    """

    number: int
    size: int
    count: int | None = None
    has_more: bool = False

    @property
    def offset(self):
        return (self.number - 1) * self.size

    @property
    def previous(self):
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self):
        more = self.has_more if self.count is None else self.number < self.count
        return self.number + 1 if more else None

    def links(self, endpoint, **url_args):
        """The pager macro's arguments (templates/_pager.html): the neighbouring pages of `endpoint`."""

        def url(number):
            return url_for(endpoint, **url_args, page=number) if number else None

        return {
            "previous_url": url(self.previous),
            "next_url": url(self.next),
            "number": self.number,
            "count": self.count,
        }


def counted_page(total, size):
    """The page asked for of `total` rows; past the end it is the last, and an empty list has one."""
    count = max(1, math.ceil(total / size))
    return Page(min(requested_page(), count), size, count)


def uncounted_page(read_rows, size):
    """The page asked for of a list that is not counted, and its rows.

    `read_rows(limit=, offset=)` reads one row more than a page: if it is there, another page follows.
    Past the end the page is empty, with its link back.
    """
    page = Page(requested_page(), size)
    rows = read_rows(limit=size + 1, offset=page.offset)
    return replace(page, has_more=len(rows) > size), rows[:size]
