import pytest

from generators.clocks import ClockConfig, ClockGenerator


def test_default_config_is_valid():
    assert ClockConfig().validate() == []


@pytest.mark.parametrize(
    ("changes", "mentions"),
    [
        ({"image_size": 20}, "image_size 20"),
        ({"image_size": 10_000}, "image_size"),
        ({"image_format": "gif"}, "image_format 'gif'"),
        ({"jpeg_quality": 0}, "jpeg_quality"),
        ({"png_compress_level": 11}, "png_compress_level"),
        ({"samples_per_face": 0}, "samples_per_face"),
        ({"face_cache_size": 0}, "face_cache_size"),
        ({"blur_probability": 1.5}, "blur_probability"),
        ({"second_hand_probability": -0.1}, "second_hand_probability"),
        ({"max_tilt_degrees": 80}, "max_tilt_degrees"),
        ({"max_rotation_degrees": -1}, "max_rotation_degrees"),
    ],
)
def test_each_bad_setting_is_reported_by_name(changes, mentions):
    problems = ClockConfig(**changes).validate()
    assert len(problems) == 1
    assert mentions in problems[0]


def test_all_problems_are_reported_together():
    problems = ClockConfig(image_size=20, image_format="bmp", jpeg_quality=101).validate()
    assert len(problems) == 3


def test_generator_refuses_a_bad_config_before_any_work():
    with pytest.raises(ValueError, match="image_format"):
        ClockGenerator(ClockConfig(image_format="tiff"))


def test_negative_seed_or_index_is_refused():
    generator = ClockGenerator(ClockConfig(image_size=64))
    with pytest.raises(ValueError, match="non-negative"):
        generator.generate(-1, 0)
    with pytest.raises(ValueError, match="non-negative"):
        generator.generate(0, -5)
