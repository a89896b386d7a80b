"""Bar charts as inline SVG, drawn here in Python: the portal serves no JavaScript charting
library and may run without internet access.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that say what it shows,
a tooltip on every bar, and the same numbers as a table (``Chart.columns`` / ``Chart.rows``) for
the page to put under a ``<details>``. Every text that comes from users (issuer names) is escaped
here; the page escapes the table itself. Text and grid lines use ``currentColor`` so that the
chart follows the admin's light and dark themes.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from keys.token_report import WEEKS, TokenReport

# Tableau 10 without its grey, which marks "other": distinguishable, and for the common forms
# of colour blindness still apart from their neighbours in a stack.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7")
OTHER_COLOUR = "#9d9d9d"
MINTED_COLOUR, REVOKED_COLOUR = "#4e79a7", "#e15759"
MAX_NAMED_SERIES = len(PALETTE)
LEGEND_NAME_CHARS = 28

WIDTH = 960
PLOT_HEIGHT = 220
LEFT, RIGHT = 56, 16
FONT = 12
MIN_BAR_HEIGHT = 2
CHAR_WIDTH = 7  # rough width of one character at FONT, to lay out and wrap the legend


@dataclass(frozen=True)
class Series:
    name: str
    colour: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class Cell:
    value: int
    url: str | None = None


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Chart:
    chart_id: str
    title: str
    description: str
    svg: SafeString
    columns: tuple[str, ...]  # the text alternative: a header per column, then a row per bar
    rows: tuple[Row, ...]


# --- The report's two charts ---------------------------------------------------------------

Link = Callable[..., str | None]


def upcoming_expiries_chart(report: TokenReport, link: Link | None = None) -> Chart:
    """Active tokens expiring per week, stacked by issuer. ``link(week, issuer)`` may give the
    address of the tokens behind a cell (``issuer`` None: the week's total)."""
    weeks = report.upcoming
    names = report.upcoming_issuers
    # The largest issuers get a colour each, given in name order so that an issuer keeps its
    # colour while the ranking below it changes.
    named, others = sorted(names[:MAX_NAMED_SERIES]), names[MAX_NAMED_SERIES:]
    series = [
        Series(name, PALETTE[index], tuple(week.by_issuer.get(name, 0) for week in weeks))
        for index, name in enumerate(named)
    ]
    if others:
        series.append(
            Series(
                f"other ({len(others)} issuers)",
                OTHER_COLOUR,
                tuple(sum(week.by_issuer.get(name, 0) for name in others) for week in weeks),
            )
        )
    link = link or (lambda week, issuer: None)
    rows = tuple(
        Row(
            f"{week.start:%Y-%m-%d}",
            (
                *(Cell(week.by_issuer.get(name, 0), link(week, name)) for name in named),
                *((Cell(series[-1].values[index]),) if others else ()),
                Cell(week.total, link(week, None)),
            ),
        )
        for index, week in enumerate(weeks)
    )
    total = sum(week.total for week in weeks)
    busiest = max(weeks, key=lambda week: week.total)
    description = (
        f"Active tokens expiring per week (Monday to Sunday, UTC) in the {WEEKS} weeks from the "
        f"week of {weeks[0].start:%Y-%m-%d}, one colour per issuer: {total} in total"
        + (
            f", the most ({busiest.total}) in the week of {busiest.start:%Y-%m-%d}."
            if total
            else "."
        )
    )
    title = f"Upcoming expiries per week, next {WEEKS} weeks"
    return Chart(
        chart_id="upcoming-expiries",
        title=title,
        description=description,
        svg=bar_chart(
            chart_id="upcoming-expiries",
            title=title,
            description=description,
            categories=week_labels([week.start for week in weeks]),
            series=series,
            stacked=True,
            empty_text=f"No tokens expire in the next {WEEKS} weeks",
        ),
        columns=("Week starting", *(item.name for item in series), "Total"),
        rows=rows,
    )


def minted_revoked_chart(report: TokenReport, link: Link | None = None) -> Chart:
    """Tokens minted and revoked per week, side by side. ``link(week, kind)`` may give the
    address of the tokens behind a cell (``kind`` "minted" or "revoked")."""
    weeks = report.activity
    series = [
        Series("minted", MINTED_COLOUR, tuple(week.minted for week in weeks)),
        Series("revoked", REVOKED_COLOUR, tuple(week.revoked for week in weeks)),
    ]
    link = link or (lambda week, kind: None)
    rows = tuple(
        Row(
            f"{week.start:%Y-%m-%d}",
            (
                Cell(week.minted, link(week, "minted")),
                Cell(week.revoked, link(week, "revoked")),
            ),
        )
        for week in weeks
    )
    minted = sum(week.minted for week in weeks)
    revoked = sum(week.revoked for week in weeks)
    description = (
        f"Tokens minted and revoked per week (Monday to Sunday, UTC) in the {WEEKS} weeks up to "
        f"the current one, which began on {weeks[-1].start:%Y-%m-%d}: {minted} minted, "
        f"{revoked} revoked."
    )
    title = f"Tokens minted and revoked per week, past {WEEKS} weeks"
    return Chart(
        chart_id="minted-revoked",
        title=title,
        description=description,
        svg=bar_chart(
            chart_id="minted-revoked",
            title=title,
            description=description,
            categories=week_labels([week.start for week in weeks]),
            series=series,
            stacked=False,
            empty_text=f"No tokens were minted or revoked in the past {WEEKS} weeks",
        ),
        columns=("Week starting", "Minted", "Revoked"),
        rows=rows,
    )


def week_labels(starts: Sequence[datetime]) -> list[str]:
    """ "Jun 8"; with the year on the first week and where the year changes."""
    labels, year = [], None
    for start in starts:
        label = f"{start:%b} {start.day}"
        if start.year != year:
            label, year = f"{label} {start.year}", start.year
        labels.append(label)
    return labels


# --- Drawing -------------------------------------------------------------------------------


def nice_step(largest: int, ticks: int = 5) -> int:
    """A whole 1, 2 or 5 times a power of ten, giving about ``ticks`` grid lines."""
    rough = max(largest / ticks, 1)
    power = 10 ** math.floor(math.log10(rough))
    for factor in (1, 2, 5, 10):
        if factor * power >= rough:
            return factor * power
    return 10 * power  # pragma: no cover (the loop always returns)


def _num(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _text(x, y, content, **attrs) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{escape(value)}"' for name, value in attrs.items())
    return f'<text x="{_num(x)}" y="{_num(y)}"{extra}>{escape(content)}</text>'


def _legend(series: Sequence[Series], width: int) -> tuple[list[str], int]:
    """The legend's elements, wrapped into rows, and the height they take."""
    parts, x, y = [], LEFT, 16
    for item in series:
        name = item.name
        if len(name) > LEGEND_NAME_CHARS:
            name = name[: LEGEND_NAME_CHARS - 1] + "…"
        item_width = 14 + 6 + CHAR_WIDTH * len(name) + 18
        if x > LEFT and x + item_width > width - RIGHT:
            x, y = LEFT, y + 20
        parts.append(
            f"<g><title>{escape(item.name)}</title>"
            f'<rect x="{x}" y="{y - 10}" width="14" height="14" fill="{item.colour}"/>'
            + _text(x + 20, y + 1, name)
            + "</g>"
        )
        x += item_width
    return parts, y + 12


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    stacked: bool,
    empty_text: str,
    x_title: str = "Week starting (Monday, UTC)",
    y_title: str = "Tokens",
) -> SafeString:
    """A stacked or grouped bar chart, one bar (or group) per category."""
    count = len(categories)
    if stacked:
        heights = [sum(item.values[index] for item in series) for index in range(count)]
    else:
        heights = [
            max((item.values[index] for item in series), default=0) for index in range(count)
        ]
    largest = max(heights, default=0)
    head = (
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
    )

    def svg(height: int, body: list[str]) -> SafeString:
        return mark_safe(  # noqa: S308 - every text in it went through escape()
            f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart_id}" class="token-chart" '
            f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
            f'viewBox="0 0 {WIDTH} {height}" width="100%" '
            f'font-family="sans-serif" font-size="{FONT}" fill="currentColor">'
            f"{head}{''.join(body)}</svg>"
        )

    if largest == 0:
        body = [
            f'<rect x="0.5" y="0.5" width="{WIDTH - 1}" height="79" fill="none" '
            'stroke="currentColor" stroke-opacity="0.3"/>',
            _text(WIDTH / 2, 45, empty_text, text_anchor="middle", font_size="14"),
        ]
        return svg(80, body)

    legend, legend_height = _legend(series, WIDTH)
    top = legend_height + 16  # room for the value above the tallest bar
    bottom = top + PLOT_HEIGHT
    height = bottom + 84
    step = nice_step(largest)
    ceiling = math.ceil(largest / step) * step
    slot = (WIDTH - LEFT - RIGHT) / count

    def y_of(value: float) -> float:
        return bottom - PLOT_HEIGHT * value / ceiling

    def height_of(value: int) -> float:
        # A count of 1 beside hundreds would be under a pixel: every non-zero bar stays visible.
        return max(MIN_BAR_HEIGHT, PLOT_HEIGHT * value / ceiling)

    body = list(legend)
    for tick in range(0, ceiling + 1, step):
        y = y_of(tick)
        body.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_num(y)}" y2="{_num(y)}" '
            f'stroke="currentColor" stroke-opacity="{0.6 if tick == 0 else 0.15}"/>'
        )
        body.append(_text(LEFT - 6, y + 4, str(tick), text_anchor="end"))
    middle = top + PLOT_HEIGHT / 2
    body.append(
        _text(14, middle, y_title, text_anchor="middle", transform=f"rotate(-90 14 {_num(middle)})")
    )
    body.append(_text(LEFT + (WIDTH - LEFT - RIGHT) / 2, height - 6, x_title, text_anchor="middle"))

    for index, category in enumerate(categories):
        x0 = LEFT + index * slot
        centre = x0 + slot / 2
        if stacked:
            width, foot, total = slot * 0.7, float(bottom), 0
            for item in series:
                value = item.values[index]
                if value:
                    bar_height = height_of(value)
                    body.append(
                        _bar(x0 + slot * 0.15, foot, bar_height, width, item, category, value)
                    )
                    foot -= bar_height
                    total += value
            if total:
                body.append(
                    _text(centre, foot - 4, str(total), text_anchor="middle", font_size="10")
                )
        else:
            width = slot * 0.8 / len(series)
            for position, item in enumerate(series):
                value = item.values[index]
                x = x0 + slot * 0.1 + position * width
                if value:
                    bar_height = height_of(value)
                    body.append(_bar(x, bottom, bar_height, width, item, category, value))
                    if len(str(value)) * 5.5 <= width + 4:  # only where the number fits
                        body.append(
                            _text(
                                x + width / 2,
                                bottom - bar_height - 3,
                                str(value),
                                text_anchor="middle",
                                font_size="9",
                            )
                        )
        label_y = bottom + 14
        body.append(
            _text(
                centre,
                label_y,
                category,
                text_anchor="end",
                font_size="11",
                transform=f"rotate(-45 {_num(centre)} {_num(label_y)})",
            )
        )
    return svg(height, body)


def _bar(x, foot, bar_height, width, item: Series, category: str, value: int) -> str:
    return (
        f'<rect x="{_num(x)}" y="{_num(foot - bar_height)}" width="{_num(width)}" '
        f'height="{_num(bar_height)}" fill="{item.colour}">'
        f"<title>{escape(item.name)}, {escape(category)}: {value}</title></rect>"
    )
