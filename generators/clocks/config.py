"""ClockConfig: every knob of the generator, checked before any work starts."""

from dataclasses import dataclass

IMAGE_FORMATS = ("jpeg", "png")
MIN_IMAGE_SIZE = 64
MAX_IMAGE_SIZE = 4096


@dataclass(frozen=True)
class ClockConfig:
    image_size: int = 448
    image_format: str = "jpeg"
    jpeg_quality: int = 90
    png_compress_level: int = 1  # zlib level 0-9; PNG is slow at any level (448px: ~18 ms at 1, ~50 ms at 6)
    samples_per_face: int = 16  # consecutive indices share one watch face (its static layers are cached)
    face_cache_size: int = 32  # rendered faces kept per generator (per worker process)
    effects: bool = True  # camera tilt, lighting, glass, hand shadows, noise, blur
    second_hand_probability: float = 0.6
    alarm_hand_probability: float = 0.04  # a distractor hand (not labelled as time), like SynClock's
    distractor_line_probability: float = 0.06
    blur_probability: float = 0.1
    exposure_jitter_probability: float = 0.5  # per-sample brightness, contrast and white balance
    max_tilt_degrees: float = 35.0  # out-of-plane camera tilt
    max_rotation_degrees: float = 25.0  # in-plane rotation of the whole watch
    debug_hand_colours: bool = False  # tests: plain white dial, hands in pure red/green/blue, no effects

    def validate(self) -> list[str]:
        """Every problem with this configuration as a sentence; empty when it is usable."""
        problems = []
        if not isinstance(self.image_size, int) or isinstance(self.image_size, bool):
            problems.append(f"image_size must be an integer, got {self.image_size!r}.")
        elif not MIN_IMAGE_SIZE <= self.image_size <= MAX_IMAGE_SIZE:
            problems.append(
                f"image_size {self.image_size} is out of range: use {MIN_IMAGE_SIZE} to {MAX_IMAGE_SIZE} pixels."
            )
        if self.image_format not in IMAGE_FORMATS:
            problems.append(f"image_format {self.image_format!r} is unknown: use one of {', '.join(IMAGE_FORMATS)}.")
        if not isinstance(self.jpeg_quality, int) or not 1 <= self.jpeg_quality <= 100:
            problems.append(f"jpeg_quality {self.jpeg_quality!r} must be an integer from 1 to 100.")
        if not isinstance(self.png_compress_level, int) or not 0 <= self.png_compress_level <= 9:
            problems.append(f"png_compress_level {self.png_compress_level!r} must be an integer from 0 to 9.")
        if not isinstance(self.samples_per_face, int) or self.samples_per_face < 1:
            problems.append(f"samples_per_face {self.samples_per_face!r} must be a positive integer.")
        if not isinstance(self.face_cache_size, int) or self.face_cache_size < 1:
            problems.append(f"face_cache_size {self.face_cache_size!r} must be a positive integer.")
        for name in (
            "second_hand_probability",
            "alarm_hand_probability",
            "distractor_line_probability",
            "blur_probability",
            "exposure_jitter_probability",
        ):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                problems.append(f"{name} {value!r} must be a probability between 0 and 1.")
        if not isinstance(self.max_tilt_degrees, int | float) or not 0.0 <= self.max_tilt_degrees <= 60.0:
            problems.append(f"max_tilt_degrees {self.max_tilt_degrees!r} must be between 0 and 60.")
        if not isinstance(self.max_rotation_degrees, int | float) or not 0.0 <= self.max_rotation_degrees <= 180.0:
            problems.append(f"max_rotation_degrees {self.max_rotation_degrees!r} must be between 0 and 180.")
        return problems

    def check(self) -> None:
        """Raise ValueError listing every problem, so bad settings fail before any rendering."""
        problems = self.validate()
        if problems:
            raise ValueError("Invalid ClockConfig: " + " ".join(problems))
