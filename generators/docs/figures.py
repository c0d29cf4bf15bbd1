"""What each renderer is asked to draw: figure types with their PixMo-Docs config and the data format.

The config (charts, tables, diagrams, other) follows the figure type, not the renderer: an HTML page can be a
table or a receipt, a LaTeX document a table or a worksheet. Most data is CSV: the small default model writes
usable CSV far more often than usable JSON; free-form documents (forms, posters, newsletters) keep JSON.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class FigureType:
    name: str
    config: str  # charts | tables | diagrams | other
    data_format: str  # csv | json


def _charts(*names: str) -> tuple[FigureType, ...]:
    return tuple(FigureType(n, "charts", "csv") for n in names)


FIGURE_TYPES: dict[str, tuple[FigureType, ...]] = {
    "matplotlib": _charts(
        "bar chart",
        "horizontal bar chart",
        "line chart",
        "pie chart",
        "scatter plot",
        "stacked bar chart",
        "histogram",
        "area chart",
        "grouped bar chart",
        "donut chart",
    ),
    "plotly": _charts(
        "bar chart",
        "line chart",
        "pie chart",
        "scatter plot",
        "funnel chart",
        "bubble chart",
        "area chart",
        "grouped bar chart",
    ),
    "vegalite": _charts("bar chart", "line chart", "scatter plot", "area chart", "heatmap", "pie chart"),
    "latex": (
        FigureType("table", "tables", "csv"),
        FigureType("comparison table", "tables", "csv"),
        FigureType("schedule table", "tables", "csv"),
        FigureType("price list", "tables", "csv"),
        FigureType("math worksheet", "other", "csv"),
        FigureType("one-page report", "other", "csv"),
    ),
    "html": (
        FigureType("data table", "tables", "csv"),
        FigureType("invoice", "other", "csv"),
        FigureType("restaurant menu", "other", "csv"),
        FigureType("receipt", "other", "csv"),
        FigureType("event poster", "other", "json"),
        FigureType("form", "other", "json"),
        FigureType("newsletter", "other", "json"),
        FigureType("timetable", "tables", "csv"),
    ),
    "mermaid": tuple(
        FigureType(n, "diagrams", "csv")
        for n in ("flowchart", "sequence diagram", "pie chart", "gantt chart", "mind map", "class diagram")
    ),
    "graphviz": tuple(
        FigureType(n, "diagrams", "csv")
        for n in (
            "flowchart",
            "organisation chart",
            "process diagram",
            "dependency graph",
            "decision tree",
            "family tree",
            "state machine",
        )
    ),
}
