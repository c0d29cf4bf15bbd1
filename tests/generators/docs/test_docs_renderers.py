"""Every renderer turns its known-good example into a usable image and rejects bad code with a reason.

Renderers (browser, kaleido server) start once per module; the checks run the real tools.
"""

import io
import json

import pytest
from PIL import Image

from generators.docs.image_checks import check_image
from generators.docs.parsing import copies_shot_code, extract_code
from generators.docs.prompts import CODE_SHOTS
from generators.docs.renderers import RENDERERS, RenderResult, get_renderer
from generators.docs.renderers.examples import GOOD
from generators.docs.sandbox import capabilities

pytestmark = pytest.mark.skipif(not capabilities().namespaces, reason="no namespace isolation on this machine")


@pytest.fixture(scope="module")
def renderers():
    started = {name: get_renderer(name) for name in RENDERERS}
    for r in started.values():
        r.start()
    yield started
    for r in started.values():
        r.close()


def assert_failed(res: RenderResult, *words: str) -> None:
    assert isinstance(res, RenderResult)
    assert not res.ok
    assert res.png == b""
    assert res.error
    for word in words:
        assert word.lower() in res.error.lower(), res.error


@pytest.mark.parametrize("name", list(RENDERERS))
def test_renders_good_example(renderers, name):
    r = renderers[name]
    res = r.render(GOOD[name], timeout_s=30)
    assert res.ok, res.error
    assert check_image(res.png) == []
    im = Image.open(io.BytesIO(res.png))
    assert im.format == "PNG" and im.mode == "RGB"
    assert res.seconds > 0


@pytest.mark.parametrize("name", list(RENDERERS))
def test_prompt_worked_example_renders_and_counts_as_a_copy_of_itself(renderers, name):
    shot = CODE_SHOTS[name]
    res = renderers[name].render(extract_code(shot.code, name), timeout_s=30)
    assert res.ok and check_image(res.png) == [], res.error  # known-good code of the renderer's kind
    assert copies_shot_code(extract_code(shot.code, name), shot.code, shot.data, shot.topic)
    assert not copies_shot_code(GOOD[name], shot.code, shot.data, shot.topic)  # other good code is no copy


@pytest.mark.parametrize("name", list(RENDERERS))
def test_describes_itself(name):
    r = get_renderer(name)
    assert r.name == name
    assert r.kind in {"charts", "tables", "diagrams", "other"}
    assert len(r.CODE_INSTRUCTIONS) > 40


def test_unknown_renderer():
    with pytest.raises(KeyError):
        get_renderer("powerpoint")


@pytest.mark.parametrize("name", ["matplotlib", "plotly"])
def test_python_syntax_error(renderers, name):
    assert_failed(renderers[name].render("import matplotlib\nplt.plot([1, 2]\n"), "SyntaxError")


def test_matplotlib_without_image(renderers):
    assert_failed(renderers["matplotlib"].render("x = sum(range(10))\nprint(x)\n"), "no image")


def test_matplotlib_runtime_error(renderers):
    res = renderers["matplotlib"].render("import matplotlib.pyplot as plt\nplt.plot([1, 2], [1, 2, 3])\n")
    assert_failed(res, "exception", "ValueError")


def test_matplotlib_hang_times_out(renderers):
    res = renderers["matplotlib"].render("while True:\n    pass\n", timeout_s=2)
    assert_failed(res)
    assert res.error in ("timeout", "cpu time limit")


def test_plotly_without_figure(renderers):
    assert_failed(renderers["plotly"].render("import plotly.graph_objects as go\nx = 1\n"), "no image")


def test_plotly_figure_without_export_uses_fig(renderers):
    code = GOOD["plotly"].replace('fig.write_image("output.png")', "")
    res = renderers["plotly"].render(code)
    assert res.ok, res.error


def test_latex_error(renderers):
    bad = "\\documentclass{article}\n\\begin{document}\n\\undefinedmacro{x}\n\\end{document}\n"
    assert_failed(renderers["latex"].render(bad), "LaTeX failed", "Undefined control sequence")


def test_latex_cannot_read_system_files(renderers):
    bad = "\\documentclass{article}\n\\begin{document}\n\\input{/etc/passwd}\n\\end{document}\n"
    assert_failed(renderers["latex"].render(bad), "LaTeX failed")


def test_latex_shell_escape_is_off(renderers, tmp_path):
    marker = tmp_path / "pwned"
    doc = (
        f"\\documentclass{{article}}\n\\begin{{document}}\nx\\immediate\\write18{{touch {marker}}}\n\\end{{document}}\n"
    )
    renderers["latex"].render(doc)
    assert not marker.exists()


def test_vegalite_remote_data_rejected(renderers):
    spec = json.loads(GOOD["vegalite"])
    spec["data"] = {"url": "https://example.com/data.csv"}
    assert_failed(renderers["vegalite"].render(json.dumps(spec)), "url")


def test_vegalite_invalid_json(renderers):
    assert_failed(renderers["vegalite"].render("{'mark': 'bar'"), "not valid JSON")


def test_mermaid_syntax_error(renderers):
    assert_failed(renderers["mermaid"].render("flowchart TD\n  A --> --> ;;\n"), "Mermaid error")


def test_graphviz_syntax_error(renderers):
    assert_failed(renderers["graphviz"].render("digraph G { a -> ; }"), "syntax error")


def test_html_external_resources_do_not_hang(renderers):
    html = (
        '<html><head><link rel="stylesheet" href="https://cdn.example.com/x.css">'
        '<script src="http://10.255.255.1/slow.js"></script></head>'
        '<body style="background:#dde"><h1>Quarterly report</h1>'
        '<img src="http://10.255.255.1/logo.png" width="200" height="100">'
        '<iframe src="https://example.com" width="600" height="200"></iframe>'
        '<p style="font-size:40px">Revenue grew 12% year over year.</p></body></html>'
    )
    # Were any request left waiting, loading would not finish and the render would fail with a timeout.
    res = renderers["html"].render(html, timeout_s=10)
    assert res.ok, res.error


def test_html_cannot_show_local_files(renderers):
    html = '<html><body><iframe src="file:///etc/passwd" width="800" height="400"></iframe></body></html>'
    res = renderers["html"].render(html)
    assert res.ok, res.error
    assert "near-uniform" in " ".join(check_image(res.png))  # the frame stays empty


def test_html_tall_page_is_clipped(renderers):
    res = renderers["html"].render(
        '<html><body style="height:20000px;background:linear-gradient(red,blue)"></body></html>'
    )
    assert res.ok, res.error
    assert Image.open(io.BytesIO(res.png)).height <= 2048


def test_renderers_recover_after_failures(renderers):
    for name in ("html", "mermaid"):
        renderers[name].render("\x00" * 10)
        assert renderers[name].render(GOOD[name]).ok


def test_plotly_figure_cannot_pull_local_images(renderers):
    code = GOOD["plotly"].replace(
        'fig.write_image("output.png")',
        'fig.add_layout_image(source="file:///etc/hostname", x=0, y=1, sizex=1, sizey=1)\n'
        'fig.write_image("output.png")',
    )
    assert_failed(renderers["plotly"].render(code), "external files")
