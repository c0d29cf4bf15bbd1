"""AnswerDrafter with the real embedded SmolLM2 and the real OCR; test doubles only for failure paths."""

import io
import threading
import time

import pytest
from PIL import Image, ImageDraw, ImageFont

from annotation.ama.drafting import AnswerDrafter, Draft, DraftError
from annotation.ama.prompts import PROMPT_VERSION
from inference.llm import LLMBackend, LLMConfig, LLMResult
from inference.llm.models import EMBEDDED_GGUF
from inference.ocr import OCRConfig

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LLM = LLMConfig(cpu_threads=1, batch_size=1)
OCR = OCRConfig(threads=1)


def sign() -> bytes:
    image = Image.new("RGB", (700, 260), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 40)
    draw.text((20, 30), "CAFE LUNA", font=font, fill="black")
    draw.text((20, 140), "Espresso $2.50", font=font, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def drafter(local_llm):  # local_llm: the session's weights, which this drafter's backend shares
    d = AnswerDrafter(LLM, OCR)
    yield d
    d.close()


def test_real_draft_carries_ocr_text(drafter):
    draft = drafter.draft(sign(), "What is the name of the cafe?", caption="A sign on the wall of a cafe.")
    assert isinstance(draft, Draft)
    assert draft.answer.strip() and not draft.answer.lower().startswith(("assistant", "answer:"))
    assert draft.ocr_text == "CAFE LUNA\nEspresso $2.50"
    assert draft.model == EMBEDDED_GGUF and draft.prompt_version == PROMPT_VERSION
    again = drafter.draft(sign(), "What is the name of the cafe?", caption="A sign on the wall of a cafe.")
    assert again == draft  # same seed, same draft


def test_bad_inputs_raise_draft_error(drafter):
    with pytest.raises(DraftError, match="question is empty"):
        drafter.draft(sign(), "   ")
    with pytest.raises(DraftError, match="cannot read the image"):
        drafter.draft(b"\x89PNG broken", "What is this?")


def test_invalid_config_is_refused():
    with pytest.raises(ValueError, match="llm-backend"):
        AnswerDrafter(LLMConfig(backend="nope"))


class ScriptedLLM(LLMBackend):
    """Returns fixed texts; counts how many calls run at the same time."""

    def __init__(self, text: str = "", error: str | None = None) -> None:
        self.text, self.error, self.active, self.most = text, error, 0, 0

    @property
    def model_id(self) -> str:
        return "scripted"

    def generate(self, requests):
        self.active += 1
        self.most = max(self.most, self.active)
        time.sleep(0.01)
        self.active -= 1
        finish = "error" if self.error else "stop"
        return [LLMResult(r.key, self.text, finish, model_id="scripted", error=self.error) for r in requests]


def with_llm(llm: LLMBackend) -> AnswerDrafter:
    drafter = AnswerDrafter(LLM, OCR)
    drafter._llm = llm  # the real backend is exercised above; these cover what it rarely does
    return drafter


@pytest.mark.parametrize(
    "llm, message",
    [
        (ScriptedLLM("Assistant:  "), "no usable draft: the model returned an empty answer"),
        (ScriptedLLM("What is written?"), "repeated the question"),
        (ScriptedLLM(error="HTTP 503 after 5 attempts"), "the language model failed: HTTP 503"),
    ],
)
def test_unusable_llm_output_raises(llm, message):
    with pytest.raises(DraftError, match=message):
        with_llm(llm).draft(sign(), "What is written?")


def test_drafts_from_many_threads_are_serialised():
    llm = ScriptedLLM("It says CAFE LUNA.")
    drafter = with_llm(llm)
    image = sign()
    results: list[Draft] = []
    threads = [threading.Thread(target=lambda: results.append(drafter.draft(image, "What?"))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and {d.answer for d in results} == {"It says CAFE LUNA."}
    assert llm.most == 1 and results[0].model == "scripted"
