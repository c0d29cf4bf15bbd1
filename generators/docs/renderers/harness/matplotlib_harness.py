"""Runs inside the sandbox: execute the LLM's matplotlib script, then make sure output.png exists.

LLM scripts often end with plt.show() instead of savefig; with the Agg backend that shows nothing,
so if no output.png was written we save the current figure ourselves.
"""

import os
import runpy
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

runpy.run_path(sys.argv[1], run_name="__main__")
if not os.path.exists("output.png") and plt.get_fignums():
    plt.savefig("output.png", dpi=100, bbox_inches="tight")
