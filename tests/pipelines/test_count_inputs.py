"""Count on good, bad and odd inputs, as a new user would feed it: a folder with the odd files people have and a URL
list with lines that are not URLs, against a local HTTP server. Every input ends as a row or a dead letter with a
reason; nothing local is read through a URL list; no dead letter holds an input's content; a failed run never
replaces a good dataset. The run is a real subprocess whose output goes to a file (as under nohup or CI)."""

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image

import beam_runner
from media.samples import bundled_images_dir
from tests.media.http_server import serving

REPO = Path(__file__).resolve().parents[2]
ASSETS = bundled_images_dir()
pytestmark = pytest.mark.skipif(ASSETS is None, reason="ultralytics (the sample photos) is not installed")
SECRET = "s3cret-pa55"
PHOTOS = 10  # distinct pictures served over HTTP next to one slow URL


@pytest.fixture(scope="module")
def server():
    with serving() as running:
        running.photos_before_slow_ok = PHOTOS  # /slow-ok stalls until every photo was asked for, or 2.5 s
        yield running


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, server) -> dict:
    root = tmp_path_factory.mktemp("inputs")
    folder = root / "images"
    folder.mkdir()
    shutil.copy(os.path.join(ASSETS, "bus.jpg"), folder / "bus.jpg")
    bus = Image.open(os.path.join(ASSETS, "bus.jpg"))
    small = bus.resize((405, 540))
    frames = [small, small.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    # A smaller, animated copy whose name sorts first: the best copy, not the first name, must be kept.
    frames[0].save(folder / "a_bus_copy.gif", save_all=True, append_images=frames[1:], duration=100)
    zidane = Image.open(os.path.join(ASSETS, "zidane.jpg")).crop((0, 0, 1100, 720))
    buffer = io.BytesIO()
    zidane.save(buffer, "JPEG", quality=92)
    (folder / "zidane_no_extension").write_bytes(buffer.getvalue())
    Image.new("RGB", (20000, 50), (90, 120, 200)).save(folder / "strip.png")
    (folder / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (folder / "report.pdf").write_bytes(b"%PDF-1.4 not really")
    (folder / "notes.jpg").write_text(f"root:x:0:0:{SECRET}:/root:/bin/bash\n")  # a text file posing as a JPEG
    urls = [server.url + f"/photo?seed={i}" for i in range(PHOTOS)]
    urls += [
        server.url + "/slow-ok",  # answers after a long silence: must not hold the others
        server.url + "/jpeg-as-html",  # a real image labelled text/html: judged by its bytes
        server.url + "/loop",
        server.url + "/to-ftp",
        "ftp://127.0.0.1/a.jpg",
        f"https://annotator:{SECRET}@127.0.0.1:1/private.jpg",
        "/etc/passwd",
        str(folder / "bus.jpg"),  # a local file, even an image, is not a URL
        "images/bus.jpg",
    ]
    listing = root / "urls.txt"
    listing.write_text("\n".join(urls) + "\n")
    return {"folder": folder, "listing": listing, "root": root}


def dead_letters(root: Path) -> list[dict]:
    files = sorted((root / "_rejected").glob("*.jsonl"))
    return [json.loads(line) for f in files for line in f.read_text().splitlines()]


def rows_of(root: Path) -> list[dict]:
    return [r for f in sorted(root.glob("*/*.parquet")) for r in pq.read_table(f).to_pylist()]


@pytest.fixture(scope="module")
def run(inputs, tmp_path_factory, server) -> dict:
    output = tmp_path_factory.mktemp("out")
    log = output / "run.log"
    argv = ["count", "--input", str(inputs["folder"]), "--input", str(inputs["listing"]), "--output", str(output)]
    argv += ["--workers", "1", "--device", "cpu", "--input-shard-size", "32", "--download-timeout", "5"]
    argv += ["--download-retries", "0"]
    with open(log, "w") as handle:  # not a terminal: progress must come as plain lines
        command = [sys.executable, "beam_runner.py", *argv]
        code = subprocess.run(command, cwd=REPO, stdout=handle, stderr=handle).returncode
    root = output / "count"
    return {"code": code, "root": root, "log": log.read_text(), "rows": rows_of(root), "dead": dead_letters(root)}


def test_every_input_is_a_row_or_a_dead_letter_with_a_reason(run, inputs):
    assert run["code"] == 0, run["log"][-3000:]
    listed = 7 + len(inputs["listing"].read_text().split())  # 7 files in the folder
    assert len(run["rows"]) + len([d for d in run["dead"] if d["level"] == "input"]) == listed
    manifest = json.loads((run["root"] / "manifest.json").read_text())
    assert manifest["rows"] == len(run["rows"]) and manifest["rejected"] == len(run["dead"])


def test_url_lists_read_no_local_file_and_say_why(run, inputs):
    by_value = {d["details"].get("value"): d for d in run["dead"] if d["stage"] == "input" and "value" in d["details"]}
    for local in ("/etc/passwd", str(inputs["folder"] / "bus.jpg"), "images/bus.jpg"):
        assert by_value[local]["reason"].startswith("not a URL"), by_value[local]
    assert by_value["ftp://127.0.0.1/a.jpg"]["reason"] == "unsupported URL scheme: ftp"
    credentials = by_value["https://***@127.0.0.1:1/private.jpg"]
    assert credentials["reason"].startswith("URL has credentials")
    urls = {r["image_url"] for r in run["rows"]}
    assert not [u for u in urls if not u.startswith(("http://", str(inputs["folder"])))]  # no local row via the list


def test_no_dead_letter_or_log_line_holds_content_or_credentials(run):
    everything = json.dumps(run["dead"]) + run["log"]
    assert SECRET not in everything and SECRET.encode().hex() not in everything and "root:x:0" not in everything
    notes = next(d for d in run["dead"] if d["input"].endswith("notes.jpg"))
    assert notes["stage"] == "decode" and notes["reason"].startswith("not an image")
    assert set(notes["details"]) == {"bytes", "detected_type", "sha256"} and notes["details"]["detected_type"] == "text"


def test_the_best_copy_of_a_scene_is_kept(run):
    bus = [r for r in run["rows"] if r["image_url"].endswith("/bus.jpg")]
    assert len(bus) == 1 and bus[0]["count"] == 4 and (bus[0]["width"], bus[0]["height"]) == (810, 1080)
    assert not [r for r in run["rows"] if r["image_url"].endswith(".gif")]
    gif = next(d for d in run["dead"] if d["input"].endswith("a_bus_copy.gif"))
    if gif["stage"] == "dedup":  # else the detector rejected the small copy on its own: the scene still has its row
        assert gif["details"]["kept"].endswith("/bus.jpg")


def test_odd_files_are_read_or_say_why(run):
    found = {d["input"].rsplit("/", 1)[-1]: d for d in run["dead"]}
    assert found["logo.svg"]["reason"] == "unsupported type .svg (not an image file)"
    assert found["report.pdf"]["reason"] == "unsupported type .pdf (not an image file)"
    assert found["strip.png"]["reason"].startswith("extreme aspect ratio: 20000x50 is 400:1")
    assert [r for r in run["rows"] if r["image_url"].endswith("zidane_no_extension")]  # no extension: decoded


def test_download_reasons_and_no_url_holds_the_others(run, server):
    found = {d["input"].rsplit("/", 1)[-1]: d["reason"] for d in run["dead"] if d["stage"] == "download"}
    assert found["loop"] == "redirect loop"
    assert found["to-ftp"].startswith("unsupported URL scheme")
    assert [r for r in run["rows"] if r["image_url"].endswith("/jpeg-as-html")]  # judged by its bytes
    # One input shard: the slow URL answers only once every photo was asked for (or after 2.5 s, and then the
    # photos would come after it).
    assert "slow-ok" not in found  # downloaded (then a row, or a duplicate of /jpeg-as-html: the same picture)
    slow_end = max(t for path, kind, t in server.events if path == "/slow-ok" and kind == "end")
    photo_starts = [t for path, kind, t in server.events if path.startswith("/photo") and kind == "start"]
    assert len(photo_starts) == PHOTOS and max(photo_starts) < slow_end  # every photo was asked for meanwhile


def test_progress_lines_and_honest_split_sizes(run):
    assert [line for line in run["log"].splitlines() if line.startswith("count: ") and " examples (" in line]
    assert "\r" not in run["log"]  # a file gets lines, not a redrawn terminal bar
    assert "WARNING: split validation has" in run["log"] and "of the 540 asked for" in run["log"]
    manifest = json.loads((run["root"] / "manifest.json").read_text())
    assert manifest["requested_splits"] == {"validation": 540, "test": 540}
    card = (run["root"] / "README.md").read_text()
    validation = manifest["splits"].get("validation", {"rows": 0})["rows"]
    assert f"validation {validation} (of 540 asked)" in card


def test_a_failed_run_never_replaces_a_good_dataset(run, tmp_path, capsys):
    output = run["root"].parent
    before = (run["root"] / "manifest.json").read_bytes()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.jpg").write_text("not an image")
    (bad / "b.jpg").write_bytes(b"\xff\xd8\xff truncated")
    argv = ["count", "--input", str(bad), "--output", str(output), "--workers", "1", "--device", "cpu", "--no-progress"]
    assert beam_runner.main(argv) == 1
    out = capsys.readouterr().out
    assert "NOT PUBLISHED - the run kept no rows" in out
    assert (run["root"] / "manifest.json").read_bytes() == before  # the good dataset, untouched
    (staging,) = [p for p in output.glob(".count.incomplete-*")]
    assert str(staging) in out and len(dead_letters(staging)) == 2  # kept, with its dead letters
    assert beam_runner.main(argv + ["--publish-anyway"]) == 1  # on purpose: replaced, and still an error exit
    assert json.loads((run["root"] / "manifest.json").read_text())["rows"] == 0
