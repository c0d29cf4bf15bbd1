"""Make a small Cap manifest offline: ultralytics' bundled photos, spoken descriptions of them (espeak-ng) as wav
files, and cap_manifest.jsonl in the annotation app's export layout, with what was said as reference_texts.

    python -m annotation.cap.make_sample_manifest OUT_DIR [--voice en-us] [--speed 130]
    python beam_runner.py cap --input OUT_DIR/cap_manifest.jsonl
"""

import argparse
import os
import shutil
import subprocess
import sys

from annotation.cap.samples import DESCRIPTIONS
from annotation.exports import CAP_MANIFEST, CapRecord, write_jsonl
from media.samples import bundled_images_dir

# espeak-ng's en-us voice at 130 words/min is what tiny.en hears best (mean WER ~0.09 on these texts).
DEFAULT_VOICE = "en-us"
DEFAULT_SPEED = 130


def speak(text: str, path: str, voice: str = DEFAULT_VOICE, speed: int = DEFAULT_SPEED) -> None:
    """espeak-ng says `text` into a wav file (raises RuntimeError with espeak's words)."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    done = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-w", path, text], capture_output=True, text=True, check=False
    )
    if done.returncode != 0 or not os.path.isfile(path):
        raise RuntimeError(f"espeak-ng failed: {done.stderr.strip() or done.returncode}")


def make_sample_manifest(out_dir: str, voice: str = DEFAULT_VOICE, speed: int = DEFAULT_SPEED) -> str:
    """Write images/, audio/ and cap_manifest.jsonl under `out_dir`; returns the manifest's path."""
    assets = bundled_images_dir()
    if assets is None:
        raise RuntimeError("the sample images come with ultralytics, which is not installed")
    os.makedirs(os.path.join(out_dir, "images"), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "audio"), exist_ok=True)
    records = []
    for image_name, texts in DESCRIPTIONS.items():
        shutil.copyfile(os.path.join(assets, image_name), os.path.join(out_dir, "images", image_name))
        stem = os.path.splitext(image_name)[0]
        audio = []
        for i, text in enumerate(texts):
            relative = f"audio/{stem}-{i}.wav"
            speak(text, os.path.join(out_dir, relative), voice, speed)
            audio.append(relative)
        records.append(
            CapRecord(
                record_id=f"sample-{stem}",
                image=f"images/{image_name}",
                audio=audio,
                reference_texts=list(texts),
                annotators=[f"espeak-ng:{voice}:{speed}"] * len(texts),
            )
        )
    path = os.path.join(out_dir, CAP_MANIFEST)
    write_jsonl(path, records)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m annotation.cap.make_sample_manifest",
        description="Speak descriptions of ultralytics' bundled photos with espeak-ng and write a Cap manifest "
        "(OUT_DIR/cap_manifest.jsonl, images/, audio/) for `beam_runner.py cap --input`.",
    )
    parser.add_argument("out_dir", help="Folder to write into (created if missing).")
    parser.add_argument("--voice", default=DEFAULT_VOICE, help="espeak-ng voice (default: %(default)s).")
    parser.add_argument("--speed", type=int, default=DEFAULT_SPEED, help="Words per minute (default: %(default)s).")
    args = parser.parse_args(argv)
    try:
        path = make_sample_manifest(args.out_dir, args.voice, args.speed)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    recordings = sum(len(t) for t in DESCRIPTIONS.values())
    print(f"wrote {path}: {len(DESCRIPTIONS)} images, {recordings} recordings")
    print(f"next: python beam_runner.py cap --input {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
