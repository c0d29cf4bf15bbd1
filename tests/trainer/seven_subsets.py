"""Small real runs of all seven pipelines into one output folder, for the mixed-subset verify test.

Every subset comes from `beam_runner.main` on tiny inputs: Clocks drawn by the real generator, Count on the
real detector, Points and AMA from annotation-app exports, Cap from espeak-ng recordings through real ASR, and
Docs, Cap and CapQA with their LLM calls answered by the scripted server in `scripted_llm.py`.
"""

import shutil
from pathlib import Path

from PIL import Image, ImageOps

import beam_runner
from annotation.cap.make_sample_manifest import speak
from annotation.exports import (
    AMA,
    CAP_MANIFEST,
    POINTS,
    AMARecord,
    AMARound,
    CapRecord,
    Point,
    PointsRecord,
    to_json,
    write_jsonl,
)
from media.samples import bundled_images_dir

QUIET = ["--workers", "1", "--no-progress", "--preview-rows", "2"]
SPOKEN = {
    "bus": "This is a sunny street scene with a big blue bus. Two men stand in front of the bus in long coats.",
    "zidane": "Two men in dark suits stand in a room. The man on the left is bald and he wears a red tie.",
}


def _images(folder: Path) -> None:
    """bus.jpg, zidane.jpg and their mirror images (new pictures to the detector's duplicate check)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("bus", "zidane"):
        source = Path(bundled_images_dir()) / f"{name}.jpg"
        shutil.copy(source, folder / f"{name}.jpg")
        ImageOps.mirror(Image.open(source)).save(folder / f"{name}_mirror.jpg", quality=95)


def _run(*argv: str) -> None:
    code = beam_runner.main(list(argv))
    if code != 0:
        raise RuntimeError(f"beam_runner {' '.join(argv)} exited with {code}")


def make_seven_subsets(root: Path, llm_url: str) -> Path:
    """Runs every pipeline into `root / "data"` and returns that folder."""
    out = root / "data"
    export = root / "export"
    _images(export / "images")
    llm = ["--llm-backend", "openai", "--llm-url", llm_url]

    _run("clocks", "--output", str(out), "--splits", "train=48,validation=56", "--image-size", "128", *QUIET)
    _run("count", "--input", str(export / "images"), "--output", str(out), *QUIET)

    points = [
        PointsRecord("p-people", "images/bus.jpg", "person", [Point(10, 60), Point(30, 55), Point(60, 58)], False),
        PointsRecord("p-bus", "images/bus.jpg", "bus", [Point(50.5, 40.25)], False),
        PointsRecord("p-tie", "images/zidane.jpg", "tie", [Point(30, 70), Point(70, 50)], False),
        PointsRecord("p-cat", "images/zidane_mirror.jpg", "cat", [], True),
    ]
    write_jsonl(str(export / POINTS), points)
    _run("points", "--input", str(export), "--output", str(out), *QUIET)

    draft = lambda text: [AMARound(draft=text, action="accepted", model="m")]  # noqa: E731
    ama = [
        AMARecord("a-colour", "images/bus.jpg", "What colour is the bus?", draft("Blue."), "Blue."),
        AMARecord("a-men", "images/zidane.jpg", "How many men are there?", draft("Two."), "Two."),
        AMARecord("a-tie", "images/zidane_mirror.jpg", "What colour is the tie?", draft("Red."), "Red."),
    ]
    write_jsonl(str(export / AMA), ama)
    _run("ama", "--input", str(export / AMA), "--output", str(out), *QUIET)

    (export / "audio").mkdir(exist_ok=True)
    records = []
    for name, text in SPOKEN.items():
        speak(text, str(export / "audio" / f"{name}.wav"))
        records.append(CapRecord(name, f"images/{name}.jpg", [f"audio/{name}.wav"], reference_texts=[text]))
    (export / CAP_MANIFEST).write_text("".join(to_json(r) + "\n" for r in records))
    cap_flags = ["--asr-cpu-threads", "1", "--caption-tokens", "96"]
    _run("cap", "--input", str(export / CAP_MANIFEST), "--output", str(out), *cap_flags, *QUIET, *llm)
    _run("capqa", "--output", str(out), "--turns", "2", *QUIET, *llm)
    docs = ["--splits", "train=2,validation=2", "--renderers", "graphviz", "--repair-attempts", "1"]
    _run("docs", "--output", str(out), *docs, *QUIET, *llm)
    return out
