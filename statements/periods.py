"""Statement periods: UTC calendar months, written `YYYY-MM`."""

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

_PERIOD = re.compile(r"(?P<year>[0-9]{4})-(?P<month>0[1-9]|1[0-2])")
FORMAT_HELP = "Use a month as YYYY-MM, such as 2026-01."

# How long a month stays open after it ends. A posting is timed (by the database, under its
# locks) a moment before it commits, so a posting timed 23:59:59.999 may commit just after
# midnight; and the app servers' clocks, which decide "now" here, may be a little off the
# database's. Issuing a month only once this has passed keeps both out of a closed statement.
SETTLE = timedelta(minutes=10)


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "Period":
        """`2026-01` -> Period(2026, 1); ValueError for `2026-13`, `2026-1`, `26-01`. Year 0000
        is well formed (and before any account opened: a 404, as the schema's pattern says)."""
        match = _PERIOD.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(FORMAT_HELP)
        return cls(int(match["year"]), int(match["month"]))

    @classmethod
    def of(cls, moment: datetime) -> "Period":
        """The month `moment` falls in, in UTC."""
        moment = moment.astimezone(UTC)
        return cls(moment.year, moment.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def start(self) -> datetime:
        """00:00:00 UTC on the first day: the first instant of the month."""
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """00:00:00 UTC on the first day of the next month: the month is [start, end)."""
        return self.next().start

    def is_open(self, now: datetime) -> bool:
        """Still open at `now`: not ended, or ended less than SETTLE ago (computed live, not
        issued)."""
        return now < self.end + SETTLE

    def next(self) -> "Period":
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> "Period":
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)


def periods_between(first: Period, last: Period) -> list[Period]:
    """Every month from `first` to `last` inclusive, newest first."""
    periods = []
    current = last
    while current >= first:
        periods.append(current)
        current = current.previous()
    return periods
