"""Cap: spoken image descriptions -> transcripts -> dense captions (manifest reading, caption prompts and checks,
word error rate, a sample manifest made with espeak-ng). No Beam."""

from annotation.cap.captions import (
    PROMPTS_VERSION,
    CaptionSettings,
    caption_problems,
    caption_request,
    clean_caption,
    clean_caption_explained,
)
from annotation.cap.manifest import ManifestError, derived_record_id, parse_manifest, read_manifest
from annotation.cap.wer import word_error_rate

__all__ = [
    "PROMPTS_VERSION",
    "CaptionSettings",
    "ManifestError",
    "caption_problems",
    "caption_request",
    "clean_caption",
    "clean_caption_explained",
    "derived_record_id",
    "parse_manifest",
    "read_manifest",
    "word_error_rate",
]
