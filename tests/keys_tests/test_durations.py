"""Lifetimes as people write them: ``90d``, ``12h``, ``30m``, ``45s`` or plain seconds."""

from datetime import timedelta

import pytest

from keys.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("90d", timedelta(days=90), id="days"),
        pytest.param("12h", timedelta(hours=12), id="hours"),
        pytest.param("30m", timedelta(minutes=30), id="minutes"),
        pytest.param("45s", timedelta(seconds=45), id="seconds"),
        pytest.param("3600", timedelta(seconds=3600), id="plain-seconds"),
        pytest.param("1d", timedelta(days=1), id="one-day"),
        pytest.param("365d", timedelta(days=365), id="a-year"),
    ],
)
def test_parse_duration_reads_each_unit(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(" 90d ", timedelta(days=90), id="surrounding-spaces"),
        pytest.param("90 d", timedelta(days=90), id="space-before-unit"),
        pytest.param("\t12h\n", timedelta(hours=12), id="tab-and-newline"),
        pytest.param("  3600  ", timedelta(seconds=3600), id="plain-seconds-with-spaces"),
    ],
)
def test_parse_duration_ignores_spaces(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("0", id="zero"),
        pytest.param("0d", id="zero-days"),
        pytest.param("-5d", id="negative"),
        pytest.param("1.5d", id="fraction"),
        pytest.param("10w", id="unknown-unit"),
        pytest.param("abc", id="words"),
        pytest.param("d", id="unit-only"),
        pytest.param("5dd", id="doubled-unit"),
        pytest.param("1d12h", id="compound"),
        pytest.param("9" * 10 + "d", id="huge-ten-digits"),
        pytest.param("9" * 40, id="huge-forty-digits"),
    ],
)
def test_parse_duration_refuses_what_is_not_a_positive_whole_duration(text):
    with pytest.raises(DurationError):
        parse_duration(text)


def test_parse_duration_refuses_none_like_empty_text():
    with pytest.raises(DurationError):
        parse_duration(None)


def test_a_duration_error_is_a_value_error():
    assert issubclass(DurationError, ValueError)


def test_a_malformed_duration_is_explained_with_examples():
    with pytest.raises(DurationError) as excinfo:
        parse_duration("10w")
    message = str(excinfo.value)
    assert "'10w'" in message
    assert "90d" in message
    assert "12h" in message


def test_a_zero_duration_is_refused_as_not_positive():
    with pytest.raises(DurationError, match="positive"):
        parse_duration("0")


def test_the_largest_accepted_amount_still_gives_a_timedelta():
    assert parse_duration("999999999s") == timedelta(seconds=999_999_999)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(timedelta(days=90), "90d", id="days"),
        pytest.param(timedelta(hours=12), "12h", id="hours"),
        pytest.param(timedelta(minutes=30), "30m", id="minutes"),
        pytest.param(timedelta(seconds=45), "45s", id="seconds"),
        pytest.param(timedelta(hours=48), "2d", id="whole-days-of-hours"),
        pytest.param(timedelta(minutes=90), "90m", id="minutes-not-hours"),
        pytest.param(timedelta(seconds=3601), "3601s", id="odd-seconds"),
    ],
)
def test_format_duration_writes_the_shortest_exact_form(value, text):
    assert format_duration(value) == text


@pytest.mark.parametrize(
    "value",
    [
        timedelta(days=90),
        timedelta(days=365),
        timedelta(hours=12),
        timedelta(hours=25),
        timedelta(minutes=30),
        timedelta(minutes=61),
        timedelta(seconds=45),
        timedelta(seconds=86401),
    ],
    ids=str,
)
def test_format_duration_reads_back_to_the_same_timedelta(value):
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("3600", "1h"), ("86400s", "1d"), ("120m", "2h"), ("24h", "1d"), ("90d", "90d")],
)
def test_parse_then_format_gives_the_canonical_form(text, canonical):
    assert format_duration(parse_duration(text)) == canonical


@pytest.mark.parametrize("text", ["36501d", "999999999d", "876001h"])
def test_a_duration_longer_than_a_century_is_refused(text):
    with pytest.raises(DurationError, match="longer than 36500d"):
        parse_duration(text)


def test_a_century_is_accepted():
    assert parse_duration("36500d").days == 36500
