"""Repairs get the real error: a failed Python render names the exception, its message and the user's line."""

import importlib
import sys
from pathlib import Path

import pytest

from generators.docs.renderers import get_renderer
from generators.docs.renderers.base import RenderError
from generators.docs.sandbox import capabilities

HARNESS_DIR = Path(__file__).resolve().parents[3] / "generators/docs/renderers/harness"


@pytest.fixture(scope="module")
def user_code():
    sys.path.insert(0, str(HARNESS_DIR))
    try:
        yield importlib.import_module("_user_code")
    finally:
        sys.path.remove(str(HARNESS_DIR))


def failure_of(user_code, source: str, tmp_path, monkeypatch) -> str:
    monkeypatch.chdir(tmp_path)
    Path("main.py").write_text(source)
    with pytest.raises(Exception) as info:
        user_code.exec_main()
    return user_code.describe_failure(info.value)


def test_names_the_deepest_line_of_the_users_own_code(user_code, tmp_path, monkeypatch):
    source = "def scale(values):\n    return [v / 0 for v in values]\n\nprint(scale([1, 2]))\n"
    text = failure_of(user_code, source, tmp_path, monkeypatch)
    assert text == "ZeroDivisionError: division by zero (line 2: return [v / 0 for v in values])"


def test_syntax_error_names_its_line(user_code, tmp_path, monkeypatch):
    text = failure_of(user_code, "x = 1\nprint((x)\n", tmp_path, monkeypatch)
    assert text == "SyntaxError: '(' was never closed (line 2: print((x))"


def test_long_messages_stay_on_one_short_line(user_code, tmp_path, monkeypatch):
    source = "raise ValueError('first line\\n' + 'detail ' * 200)\n"
    text = failure_of(user_code, source, tmp_path, monkeypatch)
    assert "\n" not in text and len(text) < 300
    assert text.startswith("ValueError: first line detail") and text.endswith(
        "(line 1: raise ValueError('first line\\n' + 'detail ' * 200))"
    )


def test_run_prints_traceback_then_summary_last(user_code, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("main.py").write_text("import json\njson.loads('{')\n")
    assert user_code.run(user_code.exec_main) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == "Traceback (most recent call last):"
    assert err[1].startswith('  File "main.py", line 2')  # harness frames left out
    assert err[-1].startswith("JSONDecodeError: Expecting property name enclosed in double quotes")
    assert err[-1].endswith("(line 2: json.loads('{'))")


def test_system_exit_zero_is_success(user_code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("main.py").write_text("import sys\nsys.exit(0)\n")
    assert user_code.run(user_code.exec_main) == 0


needs_sandbox = pytest.mark.skipif(not capabilities().isolated, reason="no allow-listed root on this machine")


@needs_sandbox
def test_matplotlib_render_error_carries_exception_and_line():
    code = (
        "import matplotlib.pyplot as plt\n"
        "months = ['Jan', 'Feb', 'Mar']\n"
        "sales = [10, 12]\n"
        "fig, ax = plt.subplots()\n"
        "ax.bar(months, sales)\n"
        "plt.savefig('output.png')\n"
    )
    with get_renderer("matplotlib") as r:
        res = r.render(code)
    assert not res.ok
    assert res.error.startswith("exception: ValueError: shape mismatch"), res.error
    assert res.error.endswith("(line 5: ax.bar(months, sales))")


@needs_sandbox
def test_plotly_render_error_carries_exception_and_line():
    code = (
        "import plotly.graph_objects as go\n"
        "\n"
        "fig = go.Figure()\n"
        "fig.add_trace(go.Bar(x=['a', 'b'], y=[1, 2], marker_color='not-a-colour'))\n"
        "fig.write_image('output.png')\n"
    )
    renderer = get_renderer("plotly")  # figure_json is its sandboxed step; no kaleido needed for this
    try:
        with pytest.raises(RenderError) as info:
            renderer.figure_json(code, timeout_s=30)
    finally:
        renderer.close()
    message = str(info.value)
    assert message.startswith("exception: ValueError: Invalid value of type 'builtins.str' received for the 'color'")
    assert message.endswith("(line 4: fig.add_trace(go.Bar(x=['a', 'b'], y=[1, 2], marker_color='not-a-colour')))")
