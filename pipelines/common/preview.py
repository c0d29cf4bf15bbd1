"""preview.html: a self-contained gallery of sample rows with their labels, for a person to eyeball."""

import base64
import html
import io

from PIL import Image

from pipelines.common.subset import PreviewItem


def thumbnail(data: bytes, max_side: int = 640) -> Image.Image:
    """An encoded image as RGB, shrunk to at most `max_side` px (labels are drawn on it at this size)."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    scale = min(1.0, max_side / max(image.size))
    if scale < 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
    return image


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def preview_jpeg(data: bytes, max_side: int = 640) -> bytes:
    """A row's image as a small JPEG for the preview page."""
    return jpeg(thumbnail(data, max_side))


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; background: #f6f6f4; color: #222; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 1rem; }}
.card {{ background: white; border-radius: 8px; padding: .6rem; box-shadow: 0 1px 3px #0002; }}
.card img {{ width: 100%; border-radius: 4px; }}
.card h3 {{ font-size: .95rem; margin: .4rem 0; }}
table {{ font-size: .8rem; border-collapse: collapse; }}
td {{ padding: 1px 6px 1px 0; vertical-align: top; overflow-wrap: anywhere; }}
td:first-child {{ color: #666; white-space: nowrap; }}
.qa {{ font-size: .85rem; margin-top: .4rem; }}
.q {{ color: #555; }} .a {{ font-weight: 600; }}
.rejects td {{ font-size: .85rem; }}
.card audio {{ width: 100%; margin-top: .3rem; }}
.audio-label {{ font-size: .8rem; color: #666; }}
</style></head><body>
<h1>{title}</h1>
<p>{intro}</p>
{rejects}
<div class="grid">
{cards}
</div></body></html>
"""


def _card(item: PreviewItem) -> str:
    src = f"data:{item.image_mime};base64,{base64.b64encode(item.image).decode()}"
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in item.fields.items())
    qa = "".join(
        f'<div class="qa"><div class="q">Q: {html.escape(q)}</div><div class="a">A: {html.escape(a)}</div></div>'
        for q, a in item.qa
    )
    audio = "".join(
        f'<div class="audio-label">{html.escape(label)}</div>'
        f'<audio controls preload="none" src="data:{html.escape(mime)};base64,{base64.b64encode(data).decode()}">'
        "</audio>"
        for label, data, mime in item.audio
    )
    return (
        f'<div class="card"><img src="{src}" alt="{html.escape(item.title)}" loading="lazy">{audio}'
        f"<h3>{html.escape(item.title)}</h3><table>{rows}</table>{qa}</div>"
    )


def render_preview(title: str, intro: str, items: list[PreviewItem], top_rejects: list[tuple[str, int]]) -> bytes:
    if top_rejects:
        lines = "".join(f"<tr><td>{n}</td><td>{html.escape(reason)}</td></tr>" for reason, n in top_rejects)
        rejects = f'<h2>Most common rejections</h2><table class="rejects">{lines}</table>'
    else:
        rejects = "<p>No rejected examples.</p>"
    page = PAGE.format(
        title=html.escape(title),
        intro=html.escape(intro),
        rejects=rejects,
        cards="\n".join(_card(item) for item in items),
    )
    return page.encode()
