"""Altair (Vega-Lite) charts of the audit's `Chart` specs, for the page and for the HTML report
(rendered to SVG offline by vl-convert, so the report opens with no network).

Each datum carries ``key`` (the bar's index), which a point selection on the page returns.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from curation.bias.base import Chart

__all__ = ["SELECTION", "altair_chart", "chart_frame", "chart_svg"]

SELECTION = "pick"  # the point selection's name: the page reads event.selection["pick"]
LABEL_CHARS = 42  # axis labels longer than this are cut (the tooltip has the full text)
BAR_HEIGHT = 22
WIDTH = 520


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def chart_frame(chart: Chart) -> pd.DataFrame:
    """The chart's bars as a table: key, label (shortened), full label, value, n, series..."""
    rows = [
        {
            "key": str(i),
            "label": _short(bar.label),
            "full_label": bar.label,
            "value": bar.value,
            "n": bar.n,
            "series": bar.series or "",
            "low": bar.low,
            "high": bar.high,
            "detail": bar.detail,
            "order": i,
        }
        for i, bar in enumerate(chart.bars)
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "key",
            "label",
            "full_label",
            "value",
            "n",
            "series",
            "low",
            "high",
            "detail",
            "order",
        ],
    )


def altair_chart(chart: Chart, *, selectable: bool = True, width: int = WIDTH) -> Any:
    """The chart as an Altair chart: horizontal bars (grouped by series when there are several),
    or points with interval rules for ``kind="rate"``; `selectable` adds the point selection."""
    frame = chart_frame(chart)
    series = [s for s in frame["series"].unique() if s]
    labels = frame["label"].drop_duplicates().tolist()
    if chart.sort == "value":
        by_value = frame.groupby("label", sort=False)["value"].max().sort_values(ascending=False)
        labels = by_value.index.tolist()
    y = alt.Y("label:N", sort=labels, title=chart.y_title, axis=alt.Axis(labelLimit=320))
    tooltip: list[Any] = [
        alt.Tooltip("full_label:N", title=chart.y_title or "label"),
        alt.Tooltip("value:Q", title=chart.x_title or "value", format=",.4~g"),
        alt.Tooltip("n:Q", title="examples", format=","),
    ]
    if series:
        tooltip.append(alt.Tooltip("series:N", title="series"))
    tooltip.append(alt.Tooltip("detail:N", title="detail"))
    color: Any = (
        alt.Color("series:N", title=None, legend=alt.Legend(orient="bottom"))
        if len(series) > 1 or (series and chart.kind == "rate")
        else alt.value("#4c78a8")
    )
    # bars of one label in several series sit side by side; otherwise colour alone tells them
    grouped = len(series) > 1 and bool(frame["label"].duplicated().any())
    offset: Any = alt.YOffset("series:N") if grouped else alt.Undefined
    # a step per label, not a fixed height: the page's theme adds padding a fixed height loses
    height = alt.Step(BAR_HEIGHT)  # with yOffset, the step of one bar within its label
    base = alt.Chart(frame, title=alt.Title(chart.title, subtitle=chart.note or alt.Undefined))
    pick = alt.selection_point(name=SELECTION, fields=["key"], on="click")
    opacity = alt.condition(pick, alt.value(1.0), alt.value(0.45)) if selectable else alt.value(1.0)
    if chart.kind == "rate":
        rules = base.mark_rule(strokeWidth=2).encode(
            y=y,
            x=alt.X("low:Q", title=chart.x_title, scale=alt.Scale(domain=[0, 1])),
            x2="high:Q",
            color=color,
            yOffset=offset,
        )
        points = base.mark_point(filled=True, size=80).encode(
            y=y,
            x=alt.X("value:Q", title=chart.x_title, axis=alt.Axis(format="%")),
            color=color,
            opacity=opacity,
            tooltip=tooltip,
            yOffset=offset,
        )
        if selectable:
            points = points.add_params(pick)
        return alt.layer(rules, points).properties(width=width, height=height)
    bars = base.mark_bar().encode(
        y=y,
        x=alt.X("value:Q", title=chart.x_title),
        color=color,
        opacity=opacity,
        tooltip=tooltip,
        yOffset=offset,
    )
    if selectable:
        bars = bars.add_params(pick)
    return bars.properties(width=width, height=height)


def chart_svg(chart: Chart) -> str:
    """The chart as a standalone SVG document, rendered offline by vl-convert.

    Raises
    ------
    ImportError
        When vl-convert-python is not installed (the report then draws tables instead).
    """
    import vl_convert

    spec = altair_chart(chart, selectable=False).to_json()
    return str(vl_convert.vegalite_to_svg(spec))
