"""Every renderer turns its known-good example into a usable image and rejects bad code with a reason.

Renderers (browser, kaleido server) start once per module; the checks run the real tools.
"""

import io
import json
import re

import pytest
from PIL import Image

from generators.docs.image_checks import check_image
from generators.docs.parsing import copies_shot_code, extract_code
from generators.docs.prompts import CODE_SHOTS
from generators.docs.renderers import RENDERERS, RenderResult, get_renderer
from generators.docs.renderers.examples import GOOD
from generators.docs.renderers.render_latex import available_packages
from generators.docs.renderers.render_vegalite import vegalite_error
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
    html = '<html><body><iframe src="{}" width="800" height="400"></iframe></body></html>'
    res = renderers["html"].render(html.format("file:///etc/passwd"))
    assert res.ok, res.error
    blank = renderers["html"].render(html.format("about:blank"))
    assert res.png == blank.png  # the frame stays empty


def test_html_page_too_tall_to_show_whole_fails_with_its_size(renderers):
    res = renderers["html"].render(
        '<html><body style="height:20000px;background:linear-gradient(red,blue)"></body></html>'
    )
    assert_failed(res, "would be cut off", "make it shorter")
    assert "x20016 px" in res.error or "x20000 px" in res.error


def test_vegalite_errors_are_the_compilers_message(renderers):
    """Not the last stack line (a CDN URL): what the model needs to fix the spec."""
    field = "Kids' club"
    encoding = {"x": {"field": field, "type": "quantitative"}, "y": {"field": "Day", "type": "nominal"}}
    spec = {"data": {"values": [{field: 3, "Day": "Mon"}]}, "mark": "bar", "encoding": encoding}
    res = renderers["vegalite"].render(json.dumps(spec))
    assert_failed(res)
    assert res.error == "Vega-Lite error: Access path missing closing quote: Kids' club"
    spec["mark"] = "barr"
    assert_failed(renderers["vegalite"].render(json.dumps(spec)), "unknown mark type 'barr'", "bar, boxplot")


def test_vegalite_error_skips_the_javascript_stack():
    stderr = (
        'Traceback (most recent call last):\n  File "_harness.py", line 13, in <module>\n'
        "ValueError: Vega-Lite to PNG conversion failed:\nError: Invalid specification\n"
        "    at l (https://cdn.jsdelivr.net/npm/vega-util@2.1.0/+esm:7:324)\n    at ext:<anon>:4:1\n"
    )
    assert vegalite_error(stderr) == "Invalid specification"


def test_mermaid_error_is_the_parsers_message(renderers):
    res = renderers["mermaid"].render("flowchart TD\n    A[Start] --> B{Is it?\n    B -->|Yes| C[OK]\n")
    assert_failed(res, "Parse error on line 3", "Expecting")


def test_latex_first_error_comes_with_its_line(renderers):
    doc = "\\documentclass{article}\n\\begin{document}\nA\n\\textbff{Total} & 12\n\\end{document}\n"
    res = renderers["latex"].render(doc)
    assert res.error == "LaTeX failed: Undefined control sequence. (line 4: `\\textbff{Total} & 12`)"
    missing = "\\documentclass{article}\n\\usepackage{fancyzzz}\n\\begin{document}\nHi\n\\end{document}\n"
    assert_failed(renderers["latex"].render(missing), "package fancyzzz is not installed here", "booktabs")


def test_latex_table_wider_than_the_page_fails(renderers):
    cells = " & ".join(f"{month} rainfall" for month in ("January", "February", "March", "April", "May", "June"))
    doc = f"\\documentclass{{article}}\n\\begin{{document}}\n\\begin{{tabular}}{{llllll}}\n{cells}\\\\\n"
    doc += "\\end{tabular}\n\\end{document}\n"
    assert_failed(renderers["latex"].render(doc), "runs off the page", "Overfull")


def test_latex_prompt_names_only_installed_packages_and_strong_models_favourites_are_there():
    installed = available_packages()
    assert {"booktabs", "tabularx", "multirow", "siunitx", "enumitem", "titlesec", "tikz", "xcolor"} <= set(installed)
    prompt = get_renderer("latex").CODE_INSTRUCTIONS
    named = re.search(r"installed here are: ([^;]+);", prompt).group(1).split(", ")
    assert named == list(installed)


def test_latex_packages_strong_models_use_compile(renderers):
    doc = (
        "\\documentclass{article}\n\\usepackage[table]{xcolor}\n"
        "\\usepackage{booktabs,tabularx,multirow,siunitx,enumitem,titlesec,tikz}\n\\begin{document}\n"
        "\\section{Results}\n"
        "\\begin{tabular}{lS}\\toprule \\multirow{2}{*}{Lake} & 8.2 \\\\ & 9.6 \\\\\n"
        "\\bottomrule\\end{tabular}\n"
        "\\begin{itemize}[leftmargin=1em]\\item one\\end{itemize}\n"
        "\\tikz \\draw[fill=teal] (0,0) rectangle (2,1);\n\\end{document}\n"
    )
    res = renderers["latex"].render(doc)
    assert res.ok, res.error


def test_graphviz_error_names_the_line(renderers):
    assert_failed(renderers["graphviz"].render("digraph G {\n  a -> ;\n}\n"), "syntax error in line 2", "`a -> ;`")


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
