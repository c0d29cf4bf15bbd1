"""ReadImages on the real in-process runner: folders, globs and URL lists in; bad files and duplicates out."""

import io
import os
import pickle
import shutil
import uuid

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from PIL import Image

from media import DecodeConfig, FetchConfig
from pipelines.common.image_source import ImageSourceConfig, ReadImages, example_id_for, expand_input
from tests.media.http_server import serving

FAST = FetchConfig(timeout_s=0.5, deadline_s=3.0, retries=1, backoff_s=0.01, max_retry_after_s=1.0, max_bytes=2_000_000)


def photo(seed: int, size=(320, 240)) -> Image.Image:
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 255, (6, 8, 3), dtype=np.uint8), "RGB")
    return coarse.resize(size, Image.Resampling.BICUBIC)


def save(image: Image.Image, path, fmt="JPEG", **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


@pytest.fixture(scope="module")
def server():
    with serving() as running:
        yield running


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "images"
    (root / "sub").mkdir(parents=True)
    save(photo(1), root / "a.jpg")
    shutil.copy(root / "a.jpg", root / "sub" / "z_copy.jpg")  # exact duplicate of a.jpg
    save(photo(1, (200, 150)), root / "b_small.jpg", quality=60)  # near duplicate of a.jpg
    save(photo(2), root / "c.png", "PNG")
    data = save(photo(3), root / "d.jpg")
    (root / "d.jpg").write_bytes(data[: len(data) // 3])  # truncated
    (root / "e.jpg").write_text("not an image")
    (root / "notes.txt").write_text("ignored: not an image extension")
    return root


def dump(element, folder: str) -> None:
    """Elements leave the pipeline as pickles on disk (the runner pickles functions, so a list would be a copy)."""
    with open(os.path.join(folder, uuid.uuid4().hex), "wb") as handle:
        pickle.dump(element, handle)


def load(folder) -> list:
    return [pickle.loads(p.read_bytes()) for p in folder.iterdir()]


def run(config: ImageSourceConfig, out_dir):
    options = PipelineOptions(["--runner=DirectRunner", "--direct_running_mode=in_memory"])
    (out_dir / "images").mkdir(parents=True)
    (out_dir / "rejects").mkdir()
    with beam.Pipeline(options=options) as p:
        out = p | ReadImages("toy", config)
        out["images"] | "KeepImages" >> beam.Map(dump, str(out_dir / "images"))
        out["rejects"] | "KeepRejects" >> beam.Map(dump, str(out_dir / "rejects"))
    images, rejects = load(out_dir / "images"), load(out_dir / "rejects")
    return sorted(images, key=lambda r: r.key), sorted(rejects, key=lambda r: (r.stage, r.input_ref))


def test_expand_folders_globs_files_and_url_lists(folder, tmp_path):
    everything = expand_input(str(folder))
    names = [p.rsplit("/", 1)[-1] for p in everything]
    assert names == ["a.jpg", "b_small.jpg", "c.png", "d.jpg", "e.jpg", "z_copy.jpg"]
    assert expand_input(str(folder / "*.png")) == [str(folder / "c.png")]
    assert expand_input(str(folder / "a.jpg")) == [str(folder / "a.jpg")]
    (tmp_path / "list.csv").write_text("id,image_url\n1,http://x/1.jpg\n2,http://x/2.jpg\n")
    (tmp_path / "list.txt").write_text("# urls\nhttp://x/3.jpg\n\n")
    (tmp_path / "bad.csv").write_text("id,link\n1,http://x/1.jpg\n")
    assert expand_input(str(tmp_path / "list.csv")) == ["http://x/1.jpg", "http://x/2.jpg"]
    assert expand_input(str(tmp_path / "list.txt")) == ["http://x/3.jpg"]
    with pytest.raises(ValueError, match="no URL column"):
        expand_input(str(tmp_path / "bad.csv"))
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"url": ["http://x/4.jpg"]}), tmp_path / "list.parquet")
    assert expand_input(str(tmp_path / "list.parquet")) == ["http://x/4.jpg"]


def test_folder_images_are_decoded_and_duplicates_dropped_once(folder, tmp_path):
    images, rejects = run(ImageSourceConfig((str(folder),), "toy", fetch=FAST, decode=DecodeConfig()), tmp_path / "out")
    assert [r.key.rsplit("/", 1)[-1] for r in images] == ["a.jpg", "c.png"]
    a = images[0]
    assert a.example_id == example_id_for("toy", a.key) and a.example_id.startswith("toy-")
    assert (a.width, a.height, a.mime) == (320, 240, "image/jpeg") and len(a.phash) == 16
    found = {(r.stage, r.input_ref.rsplit("/", 1)[-1]): r.reason for r in rejects}
    assert found[("dedup", "z_copy.jpg")] == f"exact duplicate of {a.key}"
    assert found[("dedup", "b_small.jpg")].startswith(f"near duplicate of {a.key}")
    assert "truncated" in found[("decode", "d.jpg")] or "corrupt" in found[("decode", "d.jpg")]
    assert "not an image" in found[("decode", "e.jpg")]
    assert len(rejects) == 4


def test_near_duplicates_can_be_kept(folder, tmp_path):
    images, _ = run(ImageSourceConfig((str(folder),), "toy", fetch=FAST, near_duplicate_distance=-1), tmp_path / "out")
    assert [r.key.rsplit("/", 1)[-1] for r in images] == ["a.jpg", "b_small.jpg", "c.png"]


def test_url_lists_download_through_the_same_checks(server, tmp_path):
    urls = [
        server.url + "/ok.jpg?t=source",
        server.url + "/ok.jpg?t=source",  # listed twice
        server.url + "/missing?t=source",
        server.url + "/html",
        server.url + "/retry-far?t=source",
        server.url + "/not-image",
    ]
    listing = tmp_path / "urls.csv"
    listing.write_text("url\n" + "\n".join(urls) + "\n")
    missing_folder = str(tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    config = ImageSourceConfig((str(listing), missing_folder), "toy", fetch=FAST, decode=DecodeConfig(min_side=8))
    images, rejects = run(config, tmp_path / "out")
    assert [r.key for r in images] == [server.url + "/ok.jpg?t=source"]
    reasons = sorted((r.stage, r.reason.split(" (")[0].split(";")[0]) for r in rejects)
    assert reasons == [
        ("decode", "not an image"),
        ("download", "HTTP 404"),
        ("download", "HTTP 429"),
        ("download", "not an image: Content-Type text/html"),
        ("input", "input names no images"),
        ("input", "listed 2 times"),
    ]


def test_config_checks(tmp_path):
    assert ImageSourceConfig((str(tmp_path),), "x").validate() == []
    problems = ImageSourceConfig((str(tmp_path / "nope"),), "x", near_duplicate_distance=40).validate()
    assert len(problems) == 2
