"""Runs inside the sandbox: execute the LLM's plotly script and save its figure as JSON (data, not code).

Whatever the script does to export (fig.write_image, fig.show, pio.write_image) is redirected to
figure.json; the worker renders that JSON with its own kaleido. Without any export call we fall back to
a global Figure named `fig`.
"""

import runpy
import sys

import plotly.basedatatypes
import plotly.io as pio

_saved = []


def _save(fig, *args, **kwargs):
    if isinstance(fig, dict):
        import plotly.graph_objects as go

        fig = go.Figure(fig)
    with open("figure.json", "w") as f:
        f.write(pio.to_json(fig, validate=True))
    _saved.append(True)


plotly.basedatatypes.BaseFigure.write_image = _save
plotly.basedatatypes.BaseFigure.show = _save
plotly.basedatatypes.BaseFigure.write_html = _save
pio.write_image = _save
pio.show = _save

namespace = runpy.run_path(sys.argv[1], run_name="__main__")
if not _saved and isinstance(namespace.get("fig"), plotly.basedatatypes.BaseFigure):
    _save(namespace["fig"])
