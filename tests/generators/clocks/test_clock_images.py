import dataclasses
import io
import pickle

import numpy as np
from PIL import Image

from generators.clocks import BODIES, BODY_NAMES, ClockConfig, ClockGenerator, ClockSample
from generators.clocks.stages import StageTimes


def _decode(sample: ClockSample) -> Image.Image:
    image = Image.open(io.BytesIO(sample.image_bytes))
    image.load()
    return image


def test_same_arguments_give_identical_bytes_regardless_of_cache_state():
    config = ClockConfig(image_size=192)
    first = ClockGenerator(config).generate(7, 37)
    warmed = ClockGenerator(config)
    for index in (0, 16, 36, 38, 500):  # other faces and neighbours in the cache first
        warmed.generate(7, index)
    assert warmed.generate(7, 37).image_bytes == first.image_bytes
    assert warmed.generate(7, 37) == first


def test_different_indices_give_different_images_and_seeds_give_different_faces():
    generator = ClockGenerator(ClockConfig(image_size=192))
    a, b = generator.generate(1, 10), generator.generate(1, 11)
    assert a.watchface_id == b.watchface_id  # same face, different time
    assert a.image_bytes != b.image_bytes
    assert generator.generate(2, 10).watchface_id != a.watchface_id


def test_jpeg_output_decodes_at_the_configured_size():
    sample = ClockGenerator(ClockConfig(image_size=256, jpeg_quality=80)).generate(0, 3)
    image = _decode(sample)
    assert (image.format, image.size, image.mode) == ("JPEG", (256, 256), "RGB")
    assert (sample.image_format, sample.width, sample.height) == ("jpeg", 256, 256)


def test_png_output_decodes_at_the_configured_size():
    sample = ClockGenerator(ClockConfig(image_size=320, image_format="png")).generate(0, 3)
    image = _decode(sample)
    assert (image.format, image.size, image.mode) == ("PNG", (320, 320), "RGB")
    assert sample.image_format == "png"


def test_sample_fields_are_plain_python_values():
    generator = ClockGenerator(ClockConfig(image_size=128))
    for index in range(0, 200, 9):
        sample = generator.generate(3, index)
        for field in dataclasses.fields(sample):
            value = getattr(sample, field.name)
            assert type(value) in (bytes, str, int, float, bool, dict), field.name
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in sample.features.items())
        assert sample.hour_visible and sample.minute_visible
        assert sample.second_visible == sample.shows_seconds
        assert 0 <= sample.hour < 24 and 0 <= sample.minute < 60 and 0 <= sample.second < 60
        assert sample.body_name == BODY_NAMES[sample.body_id]
        assert sample.face_index == index // 16
        assert sample.watchface_name


def test_catalogue_has_at_least_fifty_distinct_bodies():
    assert len(BODY_NAMES) >= 50
    assert len(set(BODY_NAMES)) == len(BODY_NAMES)


def test_every_body_renders_something_visible():
    generator = ClockGenerator(ClockConfig(image_size=128))
    spec = generator.face_spec(0, 0)
    for body in BODIES:
        layers = generator.render_face(dataclasses.replace(spec, body=body))
        pixels = layers.under.toarray()
        assert pixels.shape[:2] == (128, 128)
        # The body and dial must change the centre of the picture away from the bare background.
        assert pixels[40:88, 40:88, :3].std() > 3, body.name


def test_face_cache_is_reused_and_bounded():
    generator = ClockGenerator(ClockConfig(image_size=96, samples_per_face=4, face_cache_size=3))
    for index in range(40):
        generator.generate(0, index)
    assert generator.face_renders == 10
    assert generator.face_cache_hits == 30
    assert generator.cached_face_count == 3


def test_generator_survives_pickling_as_beam_does():
    generator = ClockGenerator(ClockConfig(image_size=96))
    before = generator.generate(5, 5).image_bytes
    copy = pickle.loads(pickle.dumps(generator))
    assert copy.generate(5, 5).image_bytes == before


def test_effects_can_be_switched_off():
    sample = ClockGenerator(ClockConfig(image_size=128, effects=False)).generate(0, 0)
    assert sample.features["perspective"] == "none"
    assert sample.features["blur"] == "none"
    assert np.asarray(_decode(sample)).shape == (128, 128, 3)


def test_the_stage_stopwatch_changes_nothing_but_counts_every_stage():
    config = ClockConfig(image_size=160)
    plain = [ClockGenerator(config).generate(5, i) for i in range(0, 40, 3)]
    timed = ClockGenerator(config)
    timed.stage_times = StageTimes()
    assert [timed.generate(5, i) for i in range(0, 40, 3)] == plain
    stages = set(timed.stage_times.seconds)
    assert {"face cache hit", "face miss: dial", "hands", "JPEG encode", "under-layer copy"} <= stages
    assert timed.stage_times.calls["JPEG encode"] == len(plain)
