"""ASRModelHandler: faster-whisper inside Beam's RunInference (batched, one model per worker process).

`requests | RunInference(ASRModelHandler(config))` -> one ASRResult per request; a failed or empty
transcription is a result with `error` set, never an exception, so the pipeline turns it into a dead letter.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from apache_beam.ml.inference.base import ModelHandler

from inference.asr.config import ASRConfig
from inference.asr.whisper import Transcript, WhisperTranscriber


@dataclass
class AudioRequest:
    key: str
    samples: np.ndarray  # 16 kHz mono float32 (inference.asr.audio.decode_audio)
    payload: Any = None  # carried through untouched (the pipeline's record of this recording)


@dataclass
class ASRResult:
    key: str
    payload: Any
    transcript: Transcript | None
    model_id: str
    error: str = ""


class ASRModelHandler(ModelHandler[AudioRequest, ASRResult, WhisperTranscriber]):
    def __init__(self, config: ASRConfig) -> None:
        problems = config.validate()
        if problems:
            raise ValueError("invalid ASR config: " + "; ".join(problems))
        self.config = config
        super().__init__(min_batch_size=1, max_batch_size=config.batch_size)

    def load_model(self) -> WhisperTranscriber:
        return WhisperTranscriber(self.config).load()

    def run_inference(
        self, batch: Sequence[AudioRequest], model: WhisperTranscriber, inference_args: dict[str, Any] | None = None
    ) -> Iterable[ASRResult]:
        # Recordings are decoded one after another on the loaded model: faster-whisper batches the 30 s windows
        # of one recording, not separate recordings, and on CPU one stream per core is its fastest mode.
        return [self._one(request, model) for request in batch]

    def _one(self, request: AudioRequest, model: WhisperTranscriber) -> ASRResult:
        try:
            transcript = model.transcribe(request.samples)
        except Exception as error:  # one bad recording must not take the bundle down
            reason = f"transcription failed: {type(error).__name__}: {error}"
            return ASRResult(request.key, request.payload, None, model.model_id, reason)
        if not transcript.text.strip():
            reason = "no speech recognised: the transcript is empty"
            return ASRResult(request.key, request.payload, transcript, model.model_id, reason)
        return ASRResult(request.key, request.payload, transcript, model.model_id)

    def share_model_across_processes(self) -> bool:
        # One copy per GPU machine, as for the detector and LLM; on CPU each process keeps its own (tiny.en is 75 MB).
        return self.config.resolved_device() == "cuda"

    def get_metrics_namespace(self) -> str:
        return "ASR"
