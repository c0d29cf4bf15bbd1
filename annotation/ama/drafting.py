"""AnswerDrafter: the annotation app's draft answers (OCR text + caption + a text-only LLM; never the image).

The app calls `draft` from request threads: one lock serialises drafts, and the LLM and OCR models load on the
first call, not at start-up.
"""

import threading
from dataclasses import dataclass

from annotation.ama.cleaning import Unusable, clean_answer
from annotation.ama.prompts import PROMPT_VERSION, draft_messages
from inference.llm import GenerationParams, LLMBackend, LLMConfig, LLMRequest, make_llm
from inference.llm.models import model_id_for
from inference.ocr import OCRConfig, OCREngine, OCRError, shared_engine

# Drafts are short and near-greedy: annotators review facts, not style. A little temperature lets a redraft
# after a rejection (new seed) differ from the first.
PARAMS = dict(max_new_tokens=96, temperature=0.2, top_p=0.9, stop=("\nQuestion:", "\n\n\n"))
MAX_QUESTION_CHARS = 1000


@dataclass
class Draft:
    answer: str  # the model's draft answer ("" never returned: failure raises DraftError)
    ocr_text: str  # the OCR text given to the LLM
    model: str  # LLM model id
    prompt_version: str


class DraftError(Exception):
    """No usable draft; the message says why in words an annotator or admin can act on."""


class AnswerDrafter:
    def __init__(self, llm: LLMConfig, ocr: OCRConfig | None = None) -> None:
        problems = llm.validate() + (ocr.validate() if ocr else [])
        if problems:
            raise ValueError("invalid drafting config: " + "; ".join(problems))
        self.llm_config = llm
        self.ocr_config = ocr or OCRConfig()
        self._llm: LLMBackend | None = None
        self._ocr: OCREngine | None = None
        self._lock = threading.Lock()

    def _models(self) -> tuple[LLMBackend, OCREngine]:
        if self._llm is None:
            self._llm = make_llm(self.llm_config)
        if self._ocr is None:
            self._ocr = shared_engine(self.ocr_config)
        return self._llm, self._ocr

    def draft(self, image_bytes: bytes, question: str, caption: str = "", seed: int = 0) -> Draft:
        """A draft answer to `question` about the image, or DraftError with the reason."""
        question = question.strip()
        if not question:
            raise DraftError("the question is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise DraftError(f"the question is too long ({len(question)} characters, at most {MAX_QUESTION_CHARS})")
        with self._lock:
            llm, ocr = self._models()
            try:
                ocr_text = ocr.read(image_bytes).text
            except OCRError as error:
                raise DraftError(error.reason) from None
            request = LLMRequest(
                messages=draft_messages(question, ocr_text, caption),
                params=GenerationParams(seed=seed, **PARAMS),
                key="draft",
            )
            result = llm.generate([request])[0]
        model = result.model_id or model_id_for(self.llm_config.model)
        if not result.ok:
            raise DraftError(f"the language model failed: {result.error}")
        try:
            answer = clean_answer(result.text, question)
        except Unusable as error:
            raise DraftError(f"no usable draft: {error}") from None
        return Draft(answer=answer, ocr_text=ocr_text, model=model, prompt_version=PROMPT_VERSION)

    def close(self) -> None:
        """Drop the LLM (the OCR engine is shared by the process and stays)."""
        with self._lock:
            close = getattr(self._llm, "close", None)
            if callable(close):
                close()
            self._llm = None
            self._ocr = None
