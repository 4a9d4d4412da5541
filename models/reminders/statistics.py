"""The difference between two shares paid, with a 95 % confidence interval, in plain words.

The interval is Newcombe's hybrid score interval for a difference of two independent
proportions (Newcombe 1998, "Interval estimation for the difference between independent
proportions", method 10): each share's Wilson score interval, combined. Unlike the textbook
Wald interval it stays inside [-1, 1] and keeps close to its 95 % with the small groups a small
shop has (a 10 % control group of a few hundred orders). The normal quantile 1.96 is all it needs.

"Not enough orders yet to tell": either group has fewer than MIN_ORDERS orders, or the interval
is wider than ±MAX_HALF_WIDTH (15 points): a figure that could be anything from nothing to a
lot says nothing an owner should act on.
"""

import math
from dataclasses import dataclass

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal distribution
MIN_ORDERS = 30
MAX_HALF_WIDTH = 0.15


def wilson(successes, total, z=Z95):
    """(low, high) of the Wilson score interval of successes / total; (0, 1) when total is 0."""
    if total == 0:
        return 0.0, 1.0
    share = successes / total
    z2 = z * z
    centre = share + z2 / (2 * total)
    spread = z * math.sqrt(share * (1 - share) / total + z2 / (4 * total * total))
    denominator = 1 + z2 / total
    return max(0.0, (centre - spread) / denominator), min(1.0, (centre + spread) / denominator)


@dataclass(frozen=True)
class Difference:
    """share_1 - share_2 with its 95 % interval, as fractions (0.14 = 14 points)."""

    estimate: float
    low: float
    high: float
    total_1: int
    total_2: int

    @property
    def half_width(self):
        return (self.high - self.low) / 2

    @property
    def enough(self):
        """Whether the figure says something (see the module's docstring)."""
        return min(self.total_1, self.total_2) >= MIN_ORDERS and self.half_width <= MAX_HALF_WIDTH

    @property
    def clear(self):
        """Enough orders, and the interval leaves out "no difference"."""
        return self.enough and (self.low > 0 or self.high < 0)


def difference(successes_1, total_1, successes_2, total_2):
    """Newcombe's hybrid score interval for successes_1/total_1 - successes_2/total_2, or None
    when a group is empty."""
    if not total_1 or not total_2:
        return None
    share_1, share_2 = successes_1 / total_1, successes_2 / total_2
    low_1, high_1 = wilson(successes_1, total_1)
    low_2, high_2 = wilson(successes_2, total_2)
    estimate = share_1 - share_2
    low = estimate - math.sqrt((share_1 - low_1) ** 2 + (high_2 - share_2) ** 2)
    high = estimate + math.sqrt((high_1 - share_1) ** 2 + (share_2 - low_2) ** 2)
    return Difference(estimate, low, high, total_1, total_2)


def in_hundred(fraction):
    """A fraction as a whole number of orders in 100 (0.136 → 14)."""
    return int(round(fraction * 100))
