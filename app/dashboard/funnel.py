"""The invitation funnel on the list page: the stats' figures (spec §3.3) as a small bar
chart in inline SVG, laid out here and drawn by the template. Nothing runs in the
browser, and no ``style`` attribute is used (the CSP forbids both): bars are coloured
by class in dashboard.css."""

from __future__ import annotations

from dataclasses import dataclass

from app.invitations import states
from app.invitations.queries import Tally

#: (stage, what it counts) in the order drawn: every invitation, those still open, then
#: how the others ended.
STAGES = ("invited", "pending", "accepted", "rejected", "revoked", "expired")

LABEL_WIDTH = 150
BAR_AREA = 280
COUNT_WIDTH = 56
ROW = 28
BAR_HEIGHT = 18


@dataclass(frozen=True)
class Bar:
    """One stage: its name, count, and where its bar and texts go (SVG user units)."""

    stage: str
    count: int
    y: int
    width: int

    @property
    def text_y(self) -> int:
        """Baseline of the label and count, centred on the bar."""
        return self.y + BAR_HEIGHT // 2 + 5

    @property
    def count_x(self) -> int:
        """Where the count is written: just after the bar."""
        return LABEL_WIDTH + self.width + 6


@dataclass(frozen=True)
class Funnel:
    """The chart's bars and size, and the figures written beside it."""

    bars: list[Bar]
    total: int
    acceptance_rate: float | None
    median_seconds_to_accept: float | None

    width = LABEL_WIDTH + BAR_AREA + COUNT_WIDTH
    label_x = LABEL_WIDTH - 8
    bar_x = LABEL_WIDTH
    bar_height = BAR_HEIGHT
    bar_area = BAR_AREA

    @property
    def height(self) -> int:
        """Tall enough for every bar."""
        return ROW * len(self.bars) + 4


def stage_counts(tally: Tally) -> dict[str, int]:
    """How many invitations reached each stage."""
    by_state = tally.by_state
    counts = {"invited": tally.total, "pending": sum(by_state[s] for s in states.PENDING)}
    return counts | {state: by_state[state] for state in STAGES[2:]}


def funnel(tally: Tally) -> Funnel:
    """The chart of ``tally``: bar lengths relative to every invitation counted."""
    counts = stage_counts(tally)
    largest = max(counts["invited"], 1)
    bars = [
        Bar(stage, count, ROW * index + 4, _length(count, largest))
        for index, (stage, count) in enumerate(counts.items())
    ]
    return Funnel(bars, tally.total, tally.acceptance_rate, tally.median_seconds_to_accept)


def _length(count: int, largest: int) -> int:
    # A stage with any invitation stays visible, however small next to the others.
    return max(round(BAR_AREA * count / largest), 2) if count else 0


def duration(seconds: float) -> tuple[str, int]:
    """A time as (unit, whole number) for reading at a glance: minutes, hours or days."""
    minutes = seconds / 60
    if minutes < 90:
        return "minutes", max(round(minutes), 1)
    if minutes < 48 * 60:
        return "hours", round(minutes / 60)
    return "days", round(minutes / (24 * 60))
