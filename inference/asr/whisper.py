"""faster-whisper behind a small interface: 16 kHz float samples in, transcript + word timestamps + language out.

Decoding is greedy-per-beam with a single temperature (0): faster-whisper's default temperature fallback samples
at higher temperatures, which would make transcripts (and so every caption) vary from run to run.
"""

from dataclasses import dataclass, field

import numpy as np

from inference.asr.config import ASRConfig, resolve_model


@dataclass(frozen=True)
class Word:
    word: str
    start: float  # seconds from the start of the recording
    end: float
    probability: float


@dataclass
class Transcript:
    text: str
    words: list[Word] = field(default_factory=list)
    language: str = ""
    language_probability: float = 0.0
    seconds: float = 0.0  # length of the audio the model heard


class WhisperTranscriber:
    """One loaded WhisperModel; `transcribe` is called for each recording of a batch."""

    def __init__(self, config: ASRConfig) -> None:
        self.config = config
        self.source, self.model_id = resolve_model(config.model)
        self.model = None

    def load(self) -> "WhisperTranscriber":
        from faster_whisper import WhisperModel

        self.model = WhisperModel(
            str(self.source),
            device=self.config.resolved_device(),
            device_index=self.config.device_index,
            compute_type=self.config.resolved_compute_type(),
            cpu_threads=self.config.cpu_threads,
            local_files_only=not self.config.allow_download,
        )
        return self

    def transcribe(self, samples: np.ndarray) -> Transcript:
        if self.model is None:
            self.load()
        assert self.model is not None
        segments, info = self.model.transcribe(
            samples,
            language=self.config.language,
            beam_size=self.config.beam_size,
            temperature=0.0,
            word_timestamps=True,
            condition_on_previous_text=False,  # stops one misheard phrase from repeating through the rest
            vad_filter=False,
        )
        words: list[Word] = []
        texts: list[str] = []
        for segment in segments:  # a generator: the decoding happens here
            texts.append(segment.text.strip())
            for w in segment.words or []:
                start, end = round(float(w.start), 3), round(float(w.end), 3)
                words.append(Word(w.word.strip(), start, end, float(w.probability)))
        return Transcript(
            text=" ".join(t for t in texts if t),
            words=words,
            language=info.language,
            language_probability=float(info.language_probability),
            seconds=float(info.duration),
        )
