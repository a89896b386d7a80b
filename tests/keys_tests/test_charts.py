"""The report's SVG charts (keys/charts.py), drawn from hand-made reports: well-formed XML,
accessible, escaped, and readable with no tokens and with many issuers."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from keys.charts import (
    MINTED_COLOUR,
    OTHER_COLOUR,
    PALETTE,
    minted_revoked_chart,
    nice_step,
    upcoming_expiries_chart,
    week_labels,
)
from keys.token_report import WEEKS, ActivityWeek, ExpiryWeek, TokenFigures, TokenReport

SVG = "{http://www.w3.org/2000/svg}"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
MONDAY = datetime(2026, 6, 1, tzinfo=UTC)
WEEK = timedelta(weeks=1)


def parse_svg(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 - the portal's own output, checked to be well-formed


def report(upcoming: dict[int, dict[str, int]] | None = None, activity=None) -> TokenReport:
    upcoming = upcoming or {}
    activity = activity or {}
    return TokenReport(
        now=NOW,
        issuers=(),
        total=TokenFigures(),
        longest=(),
        upcoming=tuple(
            ExpiryWeek(start=MONDAY + index * WEEK, by_issuer=upcoming.get(index, {}))
            for index in range(WEEKS)
        ),
        activity=tuple(
            ActivityWeek(MONDAY - (WEEKS - 1 - index) * WEEK, *activity.get(index, (0, 0)))
            for index in range(WEEKS)
        ),
    )


def texts(root: ET.Element) -> list[str]:
    return [element.text for element in root.iter(f"{SVG}text")]


def bars(root: ET.Element) -> list[ET.Element]:
    return [rect for rect in root.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]


def test_the_expiry_chart_is_an_accessible_svg():
    chart = upcoming_expiries_chart(report({0: {"plant-a": 2, "plant-b": 1}, 3: {"plant-a": 4}}))
    root = parse_svg(chart.svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "upcoming-expiries-title upcoming-expiries-desc"
    assert root.find(f"{SVG}title").get("id") == "upcoming-expiries-title"
    assert root.find(f"{SVG}title").text == chart.title
    description = root.find(f"{SVG}desc").text
    assert "7 in total" in description
    assert "the most (4) in the week of 2026-06-22" in description
    labels = texts(root)
    assert {"plant-a", "plant-b", "Tokens", "Week starting (Monday, UTC)"} <= set(labels)
    assert "Jun 1 2026" in labels and "Jun 8" in labels and "Nov 23" in labels
    assert {"3", "4"} <= set(labels)  # the total above each bar
    titles = sorted(bar.find(f"{SVG}title").text for bar in bars(root))
    assert titles == ["plant-a, Jun 1 2026: 2", "plant-a, Jun 22: 4", "plant-b, Jun 1 2026: 1"]


def test_a_stack_puts_one_segment_on_the_other():
    root = parse_svg(upcoming_expiries_chart(report({0: {"plant-a": 2, "plant-b": 2}})).svg)
    upper, lower = sorted(bars(root), key=lambda bar: float(bar.get("y")))
    assert upper.get("height") == lower.get("height")
    assert float(upper.get("y")) + float(upper.get("height")) == float(lower.get("y"))
    assert upper.get("x") == lower.get("x")


def test_the_text_alternative_holds_the_same_numbers():
    chart = upcoming_expiries_chart(report({1: {"plant-a": 2, "plant-b": 1}}))
    assert chart.columns == ("Week starting", "plant-a", "plant-b", "Total")
    assert len(chart.rows) == WEEKS
    assert chart.rows[1].label == "2026-06-08"
    assert [cell.value for cell in chart.rows[1].cells] == [2, 1, 3]
    assert [cell.value for cell in chart.rows[0].cells] == [0, 0, 0]


def test_issuer_names_are_escaped():
    name = "a<b>&\"c'"
    chart = upcoming_expiries_chart(report({0: {name: 1}}))
    assert "<b>" not in chart.svg
    assert "&lt;b&gt;&amp;&quot;c&#x27;" in chart.svg
    root = parse_svg(chart.svg)
    assert name in texts(root)
    assert bars(root)[0].find(f"{SVG}title").text == f"{name}, Jun 1 2026: 1"
    assert chart.columns[1] == name  # raw: the page's template escapes the table


def test_long_names_are_shortened_in_the_legend_only():
    name = "x" * 60
    root = parse_svg(upcoming_expiries_chart(report({0: {name: 1}})).svg)
    assert "x" * 27 + "…" in texts(root)
    assert name in [element.text for element in root.iter(f"{SVG}title")]


def test_no_tokens_make_a_chart_that_says_so():
    chart = upcoming_expiries_chart(report())
    root = parse_svg(chart.svg)
    assert root.get("role") == "img"
    assert texts(root) == ["No tokens expire in the next 26 weeks"]
    assert "0 in total." in root.find(f"{SVG}desc").text
    assert bars(root) == []
    activity = parse_svg(minted_revoked_chart(report()).svg)
    assert texts(activity) == ["No tokens were minted or revoked in the past 26 weeks"]


def test_many_issuers_share_eight_colours_and_other():
    upcoming = {0: {f"issuer-{index:02d}": index + 1 for index in range(12)}}
    chart = upcoming_expiries_chart(report(upcoming))
    root = parse_svg(chart.svg)
    fills = {bar.get("fill") for bar in bars(root)}
    assert fills == {*PALETTE, OTHER_COLOUR}
    assert len(set(PALETTE)) == len(PALETTE) == 8 and OTHER_COLOUR not in PALETTE
    labels = texts(root)
    # The eight largest by name; the four smallest (1 to 4 tokens) as one "other".
    assert [f"issuer-{index:02d}" for index in range(4, 12)] == [
        label for label in labels if label.startswith("issuer-")
    ]
    assert "other (4 issuers)" in labels
    assert chart.columns[-2:] == ("other (4 issuers)", "Total")
    assert [cell.value for cell in chart.rows[0].cells][-2:] == [1 + 2 + 3 + 4, 78]
    assert "78" in labels  # the week's total above the bar


def test_the_activity_chart_puts_minted_and_revoked_side_by_side():
    chart = minted_revoked_chart(report(activity={0: (5, 0), 25: (3, 2)}))
    root = parse_svg(chart.svg)
    assert root.get("aria-labelledby") == "minted-revoked-title minted-revoked-desc"
    assert "8 minted, 2 revoked" in root.find(f"{SVG}desc").text
    titles = sorted(bar.find(f"{SVG}title").text for bar in bars(root))
    assert titles == ["minted, Dec 8 2025: 5", "minted, Jun 1: 3", "revoked, Jun 1: 2"]
    minted, revoked = (
        next(bar for bar in bars(root) if bar.find(f"{SVG}title").text == title)
        for title in ("minted, Jun 1: 3", "revoked, Jun 1: 2")
    )
    assert minted.get("fill") == MINTED_COLOUR
    assert float(minted.get("x")) < float(revoked.get("x"))
    assert float(minted.get("y")) + float(minted.get("height")) == float(revoked.get("y")) + float(
        revoked.get("height")
    )
    assert {"minted", "revoked", "5", "3", "2"} <= set(texts(root))
    assert chart.columns == ("Week starting", "Minted", "Revoked")
    assert chart.rows[25].label == "2026-06-01"
    assert [cell.value for cell in chart.rows[25].cells] == [3, 2]


def test_a_count_of_one_beside_hundreds_is_still_visible():
    root = parse_svg(upcoming_expiries_chart(report({0: {"a": 900}, 1: {"a": 1}})).svg)
    assert min(float(bar.get("height")) for bar in bars(root)) >= 2


def test_axis_steps_are_round_numbers():
    assert [nice_step(n) for n in (1, 4, 5, 12, 99, 603, 1_000_000)] == [
        1,
        1,
        1,
        5,
        20,
        200,
        200_000,
    ]


def test_week_labels_carry_the_year_where_it_changes():
    starts = [datetime(2025, 12, 22, tzinfo=UTC) + index * WEEK for index in range(3)]
    assert week_labels(starts) == ["Dec 22 2025", "Dec 29", "Jan 5 2026"]
