"""Runs inside the sandbox: convert spec.json (a Vega-Lite spec) to output.png with vl-convert.

allowed_base_urls=[] stops vl-convert from loading any data by URL, even if a URL slipped past the
worker's own check.
"""

import json

import vl_convert

with open("spec.json") as f:
    spec = json.load(f)
png = vl_convert.vegalite_to_png(spec, scale=2, allowed_base_urls=[])
with open("output.png", "wb") as f:
    f.write(png)
