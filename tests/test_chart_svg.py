"""The SVG chart renderer: valid XML, escaped text, sensible axes, gaps and empty states."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

from roost.domain.chart_svg import (
    PANEL_HEIGHT,
    Chart,
    ChartPanel,
    format_time,
    format_value,
    nice_step,
    render_svg,
    value_range,
)

SVG = "{http://www.w3.org/2000/svg}"
HOUR = 3_600_000
DAY = 24 * HOUR
END = 1_800_000_000_000 - 1_800_000_000_000 % HOUR
START = END - DAY
RESOLUTION = 15 * 60_000


def panel(title: str = "jobs.processed", values: list[float | None] | None = None) -> ChartPanel:
    if values is None:
        values = [10 + 5 * math.sin(index / 8) for index in range(DAY // RESOLUTION)]
    times = range(START, END, RESOLUTION)
    return ChartPanel(title, START, END, RESOLUTION, list(zip(times, values, strict=False)))


def parse(chart: Chart) -> ET.Element:
    return ET.fromstring(render_svg(chart))


def texts(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def line_paths(root: ET.Element) -> list[ET.Element]:
    return [p for p in root.iter(f"{SVG}path") if p.get("class") == "line"]


def test_a_chart_is_well_formed_svg_with_its_title_axes_and_line() -> None:
    root = parse(Chart(panels=[panel()], caption="last 24h · UTC"))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "jobs.processed"  # type: ignore[union-attr]
    shown = texts(root)
    assert "jobs.processed" in shown and "last 24h · UTC" in shown
    assert "0" in shown and "15" in shown  # value labels from zero up past the highest point
    assert sum(bool(re.fullmatch(r"\d\d:\d\d", text)) for text in shown) >= 3  # time labels
    [line] = line_paths(root)
    assert line.get("d", "").count(",") == DAY // RESOLUTION


def test_text_from_users_is_escaped_and_stays_xml() -> None:
    name = 'api <script>alert("x")</script> & co\x00\x07'
    source = render_svg(Chart(panels=[panel(title=name)], heading="<b>ops</b> & 'friends'"))
    assert "<script" not in source and "<b>" not in source
    assert "&lt;script&gt;" in source and "&amp; co" in source
    root = ET.fromstring(source)
    assert 'api <script>alert("x")</script> & co' in texts(root)
    assert "<b>ops</b> & 'friends'" in texts(root)


def test_the_image_is_self_contained() -> None:
    source = render_svg(Chart(panels=[panel()]))
    assert "href" not in source and "url(" not in source and "@import" not in source
    assert "<script" not in source and "<foreignObject" not in source


def test_the_card_has_a_light_background_and_a_dark_one_when_preferred() -> None:
    root = parse(Chart(panels=[panel()]))
    card = next(r for r in root.iter(f"{SVG}rect") if r.get("class") == "card")
    assert card.get("fill") == "#ffffff"
    style = root.find(f"{SVG}style").text or ""  # type: ignore[union-attr]
    assert "prefers-color-scheme: dark" in style and ".card{fill:#" in style


def test_a_long_title_is_shortened() -> None:
    root = parse(Chart(panels=[panel(title="x" * 500)]))
    [title] = [t for t in texts(root) if t.startswith("xxx")]
    assert len(title) == 70 and title.endswith("…")


def test_empty_buckets_break_the_line_and_a_lone_point_is_a_dot() -> None:
    values: list[float | None] = [1.0, 2.0, None, 3.0, 4.0, None, None, 5.0, None]
    root = parse(Chart(panels=[panel(values=values)]))
    assert len(line_paths(root)) == 2
    assert len(list(root.iter(f"{SVG}circle"))) == 1


def test_no_values_shows_a_note_instead_of_a_plot() -> None:
    empties: list[list[float | None]] = [[], [None, None], [math.nan, math.inf]]
    for empty in empties:
        root = parse(Chart(panels=[panel(values=empty)]))
        assert "No data in this range" in texts(root)
        assert line_paths(root) == []
    root = parse(Chart(panels=[ChartPanel("gone", START, END, RESOLUTION, (), note="Stat gone")]))
    assert "Stat gone" in texts(root)
    assert "No charts" in texts(parse(Chart(panels=[], heading="Empty board")))


def test_a_flat_series_and_negative_values_get_a_usable_axis() -> None:
    root = parse(Chart(panels=[panel(values=[7.0] * 10)]))
    assert len(line_paths(root)) == 1
    assert "nan" not in render_svg(Chart(panels=[panel(values=[7.0] * 10)])).lower()
    shown = texts(parse(Chart(panels=[panel(values=[-40.0, 10.0, 25.0])])))
    assert "-40" in shown and "0" in shown and "20" in shown


def test_panels_stack_in_order_under_the_dashboard_heading() -> None:
    one = parse(Chart(panels=[panel("first")], heading="Board"))
    three = parse(Chart(panels=[panel("first"), panel("second"), panel("third")], heading="Board"))
    assert int(three.get("height", 0)) > int(one.get("height", 0)) + 2 * PANEL_HEIGHT
    shown = texts(three)
    assert shown[0] == "Board"
    titles = [t for t in shown if t in ("first", "second", "third")]
    assert titles == ["first", "second", "third"]


def test_value_axes_use_round_steps_and_start_at_zero_when_close() -> None:
    assert nice_step(100, 4) == 25
    assert nice_step(7, 4) == 2
    assert nice_step(0.9, 4) == 0.25
    assert value_range([3.0, 12.0]) == (0.0, 15.0, 5.0)
    low, high, _ = value_range([98.0, 100.0])
    assert 97 <= low <= 98 and 100 <= high < 101  # detail kept: not squashed against zero


def test_value_labels_are_short_and_as_precise_as_the_step() -> None:
    assert format_value(0.0, 5) == "0"
    assert format_value(-1e-17, 0.1) == "0"
    assert format_value(2500, 500) == "2.5k"
    assert format_value(2000, 500) == "2k"
    assert format_value(3_000_000, 1_000_000) == "3M"
    assert format_value(0.25, 0.25) == "0.25"
    assert format_value(12, 2) == "12"
    assert format_value(0.00002, 0.00001) == "2e-05"


def test_time_labels_fit_the_range() -> None:
    assert re.fullmatch(r"\d\d:00", format_time(END, HOUR))
    assert re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}", format_time(END, 7 * DAY))
    assert re.fullmatch(r"\d{4}", format_time(END, 365 * DAY))
