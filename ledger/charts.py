"""Balance-over-time charts as inline SVG, drawn on the server from `Entry.balance_after`.

No JavaScript and no inline style: the template gets path strings and positions, and the
stylesheet colours them. The plot is an inner SVG stretched to the width of the page
(`preserveAspectRatio="none"`); month labels sit in the outer SVG at percentage positions and
amounts in HTML beside it, so text keeps its size at any width and never sits on the line.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from django.utils import timezone

from core.currencies import exponent, format_money, to_major
from ledger.models import Account
from ledger.selectors import BalanceSeries, balance_points

# In CSS pixels; static/css/bank.css lines the axis labels up with these (.chart-axis).
HEIGHT = 180  # the outer SVG: the plot, then a row of month labels
PLOT_TOP = 8
PLOT_HEIGHT = 148
PLOT_WIDTH = 1000  # the inner SVG's viewBox width; stretched to whatever the page gives it
CHART_SPAN = timedelta(days=183)  # six months


@dataclass(frozen=True)
class GridLine:
    y: float
    label: str


@dataclass(frozen=True)
class Tick:
    x: float  # percent of the width
    label: str


@dataclass
class BalanceChart:
    currency: str
    start: datetime
    end: datetime
    opening: int
    closing: int
    low: int
    high: int
    line: str = ""
    area: str = ""
    gridlines: list[GridLine] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    has_history: bool = False

    height = HEIGHT
    plot_top = PLOT_TOP
    plot_height = PLOT_HEIGHT
    plot_bottom = PLOT_TOP + PLOT_HEIGHT
    plot_width = PLOT_WIDTH

    @property
    def summary(self) -> str:
        span = f"{self.start:%-d %b %Y} to {self.end:%-d %b %Y}"
        if not self.has_history:
            return f"No money moved from {span}; the balance stayed at {self._m(self.closing)}."
        return (
            f"Balance from {span}: from {self._m(self.opening)} to {self._m(self.closing)}; "
            f"highest {self._m(self.high)}, lowest {self._m(self.low)}."
        )

    def _m(self, amount: int) -> str:
        return format_money(amount, self.currency)


def nice_ceiling(value: int, currency: str) -> int:
    """A round top for the axis, in minor units: 1 to 8 times a power of ten."""
    unit = 10 ** exponent(currency)
    if value <= 0:
        return 100 * unit
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        top = int(step * magnitude)
        if top >= value * 1.05:
            return max(top, unit)
    return 10 * magnitude


def axis_money(amount: int, currency: str) -> str:
    """EUR 5,000 on an axis; decimals only when the tick is not a whole major unit."""
    if amount % (10 ** exponent(currency)) == 0:
        return f"{currency} {to_major(amount, currency):,.0f}"
    return format_money(amount, currency)


def tick_times(start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """Month starts over a long window, Mondays over a few weeks, midnights over a few days."""
    days = (end - start).days
    midnight = datetime.combine(start.date(), time.min, tzinfo=start.tzinfo)
    ticks = []
    if days > 62:
        month = date(start.year, start.month, 1)
        while month <= end.date():
            ticks.append((datetime.combine(month, time.min, tzinfo=start.tzinfo), f"{month:%b}"))
            month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    elif days >= 2:
        step = 7 if days > 10 else 1
        moment = midnight + timedelta(days=(7 - midnight.weekday()) % 7 if step == 7 else 1)
        while moment <= end:
            ticks.append((moment, f"{moment:%-d %b}"))
            moment += timedelta(days=step)
    return ticks


def balance_chart(
    *, currency: str, series: BalanceSeries, start: datetime, end: datetime
) -> BalanceChart:
    """A step line of the balance from `start` (worth the series' opening) through each of its
    (time, balance) points to `end`. Points that land on the same one-in-a-thousand slice of
    the width keep the last balance, so a busy account draws at most a thousand steps."""
    opening, points = series.opening, series.points
    chart = BalanceChart(
        currency=currency,
        start=start,
        end=end,
        opening=opening,
        closing=points[-1][1] if points else opening,
        low=series.low,
        high=series.high,
        has_history=bool(points),
    )
    top = nice_ceiling(chart.high, currency)
    span = max((end - start).total_seconds(), 1)

    def x(moment: datetime) -> int:
        return round(min(max((moment - start).total_seconds() / span, 0), 1) * PLOT_WIDTH)

    def y(balance: int) -> float:
        return round(PLOT_HEIGHT - max(balance, 0) / top * PLOT_HEIGHT, 2)

    steps: list[tuple[int, int]] = []
    for moment, balance in points:
        position = x(moment)
        if steps and steps[-1][0] == position:
            steps[-1] = (position, balance)
        else:
            steps.append((position, balance))
    parts, current = [f"M0 {y(opening)}"], opening
    for position, balance in steps:
        if balance != current:
            parts.append(f"H{position} V{y(balance)}")
            current = balance
    parts.append(f"H{PLOT_WIDTH}")
    chart.line = " ".join(parts)
    chart.area = f"{chart.line} V{PLOT_HEIGHT} H0 Z"

    for fraction in (1, 0.5, 0):
        line_y = PLOT_TOP + PLOT_HEIGHT * (1 - fraction)
        label = axis_money(round(top * fraction), currency)
        chart.gridlines.append(GridLine(y=line_y, label=label))

    last = -100.0
    for moment, label in tick_times(start, end):
        position = round((moment - start).total_seconds() / span * 100, 2)
        # Not hard against the right edge (it would be cut off), nor on top of the last one.
        if 0 < position <= 94 and position - last >= 9:
            chart.ticks.append(Tick(x=position, label=label))
            last = position
    return chart


def charts_for(accounts: list[Account]) -> dict[UUID, BalanceChart]:
    """Each account's balance over the last six months, or since it was opened."""
    end = timezone.now()
    since = datetime.combine((end - CHART_SPAN).date(), time.min, tzinfo=UTC)
    # As many points as the plot has columns, at most: a finer step could not be drawn.
    series = balance_points(accounts, since=since, until=end, most=PLOT_WIDTH)
    return {
        account.pk: balance_chart(
            currency=account.currency,
            series=series[account.pk],
            start=max(since, account.created_at),
            end=end,
        )
        for account in accounts
    }
