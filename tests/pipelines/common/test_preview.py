"""preview.html: cards embed the image and audio, and escape every text they show."""

import base64

from pipelines.common.preview import render_preview
from pipelines.common.subset import PreviewItem


def test_cards_embed_audio_and_escape_text():
    item = PreviewItem(
        image=b"\x89PNG fake",
        image_mime="image/png",
        title="<b>title</b>",
        fields={"caption": "<script>alert(1)</script>"},
        qa=[("is it <i>?", "yes & no")],
        audio=[("recording 1", b"RIFF....WAVE", "audio/wav")],
    )
    page = render_preview("Cap", "intro", [item], [("bad <audio>", 3)]).decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;title&lt;/b&gt;" in page and "yes &amp; no" in page and "bad &lt;audio&gt;" in page
    assert f'src="data:audio/wav;base64,{base64.b64encode(b"RIFF....WAVE").decode()}"' in page
    assert page.count("<audio controls") == 1 and "recording 1" in page
