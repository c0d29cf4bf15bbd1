"""Runs inside the sandbox server: plotly imported once (warm_up); each job runs main.py and saves its
figure as JSON (data, not code).

Whatever the script does to export (fig.write_image, fig.show, pio.write_image) is redirected to
figure.json; the worker renders that JSON with its own kaleido. Without any export call we fall back to
a global Figure named `fig`.
"""

import _user_code
import numpy.random  # noqa: F401  (LLM scripts import these; every job would pay for them otherwise)
import pandas
import plotly.basedatatypes
import plotly.express as px
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

_saved = []


def _save(fig, *args, **kwargs):
    if isinstance(fig, dict):
        fig = go.Figure(fig)
    with open("figure.json", "w") as f:
        f.write(pio.to_json(fig, validate=True))
    _saved.append(True)


plotly.basedatatypes.BaseFigure.write_image = _save
plotly.basedatatypes.BaseFigure.show = _save
plotly.basedatatypes.BaseFigure.write_html = _save
pio.write_image = _save
pio.show = _save


def warm_up() -> None:
    """Build and serialise typical figures so plotly's validators and templates load before any fork."""
    frame = pandas.DataFrame({"year": [2020, 2021, 2022], "value": [3, 5, 4], "group": ["a", "b", "a"]})
    figures = [
        px.bar(frame, x="year", y="value", color="group", title="Warm-up"),
        px.line(frame, x="year", y="value", markers=True),
        px.scatter(frame, x="year", y="value", size="value"),
        px.pie(frame, names="group", values="value"),
    ]
    fig = make_subplots(rows=1, cols=2)
    fig.add_trace(go.Scatter(x=[1, 2], y=[3, 4], mode="lines+markers", name="s"), row=1, col=1)
    fig.add_trace(go.Bar(x=["a", "b"], y=[1, 2], text=[1, 2], marker_color="#4C72B0"), row=1, col=2)
    fig.add_annotation(text="note", x=1, y=3, showarrow=True)
    fig.update_layout(title="Warm-up", width=800, height=500, xaxis_title="x", legend_title="legend")
    figures += [fig, go.Figure(go.Heatmap(z=[[1, 2], [3, 4]])), go.Figure(go.Pie(labels=["a"], values=[1]))]
    for figure in figures:
        pio.to_json(figure, validate=True)


def render() -> None:
    _saved.clear()
    namespace = _user_code.exec_main()
    if not _saved and isinstance(namespace.get("fig"), plotly.basedatatypes.BaseFigure):
        _save(namespace["fig"])


def run_job() -> int:
    return _user_code.run(render)
