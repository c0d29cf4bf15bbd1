"""ClockGenerator: (seed, index) -> ClockSample, with the static layers of each face cached per process."""

from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import skia

from .config import ClockConfig
from .draw_body import body_extent, case_path, draw_body_back, draw_case
from .draw_dial import draw_dial
from .draw_scene import draw_background
from .effects import blur_surface, draw_noise, exposure_table, make_noise_tile
from .encode import Encoder
from .faces import FaceSpec, sample_face
from .geometry import camera_matrix
from .glass import draw_crystal, draw_distractor_lines, draw_vignette, make_vignette
from .hands import Hand, HandSet, build_hands, shadow_offset
from .randomness import FACE_STREAM, SAMPLE_STREAM, chance, stream
from .shadows import draw_drop_shadow
from .stages import StageTimes, no_lap
from .timing import sample_time

GENERATOR_VERSION = "clocks-1.2"  # bump whenever the same (seed, index, config) would draw a different image


@dataclass
class ClockSample:
    image_bytes: bytes
    image_format: str
    width: int
    height: int
    watchface_id: str
    watchface_name: str
    body_id: int
    body_name: str
    face_index: int
    hour: int
    minute: int
    second: int
    shows_seconds: bool
    hour_visible: bool
    minute_visible: bool
    second_visible: bool
    hour_angle: float
    minute_angle: float
    second_angle: float
    features: dict[str, str] = field(default_factory=dict)


@dataclass
class FaceLayers:
    """Everything about one face that does not change with the time shown."""

    spec: FaceSpec
    under: skia.Image  # background, body and dial
    over: skia.Image | None  # glass reflections, distractor lines, vignette
    matrix: skia.Matrix  # dial units -> pixels
    hands: HandSet  # with their shadows' layers when effects are on
    shadow_offset: tuple[float, float]


def _new_surface(size: int) -> skia.Surface:
    # Native (N32) pixels: skia's blending fast paths are several times faster than for RGBA order.
    info = skia.ImageInfo.MakeN32Premul(size, size)
    return skia.Surface.MakeRaster(info)


COPY = skia.Paint(BlendMode=skia.BlendMode.kSrc)  # the under-layer is opaque: copy it, do not blend it


class ClockGenerator:
    """Not thread-safe; make one per worker process (Beam: in DoFn.setup)."""

    def __init__(self, config: ClockConfig) -> None:
        config.check()
        self.config = config
        self.face_renders = 0  # faces drawn from scratch, for cache statistics
        self.face_cache_hits = 0
        self.stage_times: StageTimes | None = None  # set one to profile where each sample's time goes
        self._reset_caches()

    def _reset_caches(self) -> None:
        self._faces: OrderedDict[tuple[int, int, int], FaceLayers] = OrderedDict()
        self._surface: skia.Surface | None = None
        self._noise: skia.Image | None = None
        self._encoder: Encoder | None = None
        self._vignette: skia.Image | None = None

    def _vignette_image(self) -> skia.Image:
        if self._vignette is None:
            self._vignette = make_vignette(self.config.image_size)
        return self._vignette

    def __getstate__(self) -> dict:
        # Skia objects cannot be pickled; a copy rebuilds its caches on first use.
        return {"config": self.config, "face_renders": 0, "face_cache_hits": 0, "stage_times": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._reset_caches()

    @property
    def cached_face_count(self) -> int:
        return len(self._faces)

    def face_index(self, index: int) -> int:
        return index // self.config.samples_per_face

    def face_spec(self, seed: int, face_index: int) -> FaceSpec:
        return sample_face(stream(seed, FACE_STREAM, face_index), self.config)

    def _lap(self):
        return self.stage_times.lap if self.stage_times is not None else no_lap

    def face_layers(self, seed: int, face_index: int) -> FaceLayers:
        key = (seed, face_index, self.config.image_size)
        layers = self._faces.get(key)
        if layers is not None:
            self._faces.move_to_end(key)
            self.face_cache_hits += 1
            self._lap()("face cache hit")
            return layers
        spec = self.face_spec(seed, face_index)
        self._lap()("face miss: choices (FaceSpec)")
        layers = self.render_face(spec)
        self.face_renders += 1
        self._faces[key] = layers
        if len(self._faces) > self.config.face_cache_size:
            self._faces.popitem(last=False)
        return layers

    def _effects_on(self) -> bool:
        return self.config.effects and not self.config.debug_hand_colours

    def render_face(self, spec: FaceSpec) -> FaceLayers:
        """Draw a face's static layers: everything under the hands, and everything above them."""
        size = self.config.image_size
        lap = self._lap()
        matrix = camera_matrix(spec.camera, size, body_extent(spec.body))
        surface = _new_surface(size)
        effects = self._effects_on()
        self._draw_under_layer(surface.getCanvas(), spec, matrix, effects, lap)
        under = surface.makeImageSnapshot().makeRasterImage()
        over = None
        if effects:
            self._draw_over_layer(surface.getCanvas(), spec, matrix)
            over = surface.makeImageSnapshot().makeRasterImage()
        lap("face miss: glass, lines, vignette (over-layer)")
        hands = build_hands(spec, self.config.debug_hand_colours, spec.shadow_strength if effects else 0.0)
        lap("face miss: hand paths and their shadows")
        return FaceLayers(spec, under, over, matrix, hands, shadow_offset(spec))

    def _draw_under_layer(
        self, canvas: skia.Canvas, spec: FaceSpec, matrix: skia.Matrix, effects: bool, lap=no_lap
    ) -> None:
        if self.config.debug_hand_colours:
            canvas.clear(skia.ColorSetRGB(128, 128, 128))  # no background colour can be mistaken for a hand
        else:
            draw_background(canvas, spec, self.config.image_size)
        lap("face miss: background")
        if effects:
            # The watch's own soft shadow on whatever it lies on, cast away from the light.
            dx, dy = shadow_offset(spec)
            cast = skia.Matrix.Concat(matrix, skia.Matrix.Translate(dx * 3, dy * 3))
            draw_drop_shadow(canvas, self.config.image_size, case_path(spec.body), cast, 6.0, 110 / 255)
        lap("face miss: watch shadow")
        canvas.save()
        canvas.concat(matrix)
        draw_body_back(canvas, spec)
        lap("face miss: strap, lugs, holder")
        draw_case(canvas, spec)
        lap("face miss: case and bezel")
        draw_dial(canvas, spec)
        canvas.restore()
        lap("face miss: dial")

    def _draw_over_layer(self, canvas: skia.Canvas, spec: FaceSpec, matrix: skia.Matrix) -> None:
        canvas.clear(skia.ColorTRANSPARENT)
        canvas.save()
        canvas.concat(matrix)
        draw_crystal(canvas, spec)
        canvas.restore()
        draw_distractor_lines(canvas, spec, self.config.image_size)
        draw_vignette(canvas, spec, self._vignette_image())

    def _draw_hand(self, canvas: skia.Canvas, layers: FaceLayers, hand: Hand, angle: float, lap=no_lap) -> None:
        if hand.shadow:
            canvas.save()
            canvas.translate(*layers.shadow_offset)
            canvas.rotate(angle)
            for path, paint in hand.shadow:
                canvas.drawPath(path, paint)
            canvas.restore()
            lap("hand shadows")
        canvas.save()
        canvas.rotate(angle)
        for path, paint in hand.layers:
            canvas.drawPath(path, paint)
        canvas.restore()
        lap("hands")

    def generate(self, seed: int, index: int) -> ClockSample:
        if not isinstance(seed, int | np.integer) or not isinstance(index, int | np.integer) or seed < 0 or index < 0:
            raise ValueError(f"seed and index must be non-negative integers, got seed={seed!r} index={index!r}")
        seed, index = int(seed), int(index)  # numpy integers from a pipeline become plain ints in the labels
        if self.stage_times is not None:
            self.stage_times.start()
        lap = self._lap()
        config = self.config
        size = config.image_size
        face_index = self.face_index(index)
        layers = self.face_layers(seed, face_index)
        spec = layers.spec
        time = sample_time(seed, index)
        rng = stream(seed, SAMPLE_STREAM, index)

        if self._surface is None:
            self._surface = _new_surface(size)
            self._noise = make_noise_tile(size)
            self._encoder = Encoder(size, config.image_format, config.jpeg_quality, config.png_compress_level)
        lap("time label and random streams")
        canvas = self._surface.getCanvas()
        canvas.drawImage(layers.under, 0, 0, skia.SamplingOptions(), COPY)
        lap("under-layer copy")
        canvas.save()
        canvas.concat(layers.matrix)
        hands = layers.hands
        alarm_angle = float(rng.uniform(0, 360))
        if hands.alarm is not None:
            self._draw_hand(canvas, layers, hands.alarm, alarm_angle, lap)
        self._draw_hand(canvas, layers, hands.hour, time.hour_angle, lap)
        self._draw_hand(canvas, layers, hands.minute, time.minute_angle, lap)
        if hands.second is not None:
            self._draw_hand(canvas, layers, hands.second, time.second_angle, lap)
        for path, paint in hands.cap:
            canvas.drawPath(path, paint)
        canvas.restore()
        lap("hands")
        if layers.over is not None:
            canvas.drawImage(layers.over, 0, 0)
        lap("over-layer blend (glass, vignette)")

        blur, noise, exposure = "none", "none", "none"
        table = None
        if self._effects_on():
            if chance(rng, config.exposure_jitter_probability):
                table = exposure_table(rng)  # applied to the finished pixels as they are encoded
                exposure = "jittered"
            draw_noise(canvas, self._noise, spec.noise_strength, rng)
            noise = "none" if spec.noise_strength <= 0 else "light" if spec.noise_strength < 0.045 else "heavy"
            lap("noise")
            if chance(rng, config.blur_probability):
                blur = "strong" if chance(rng, 0.35) else "mild"
                blur_surface(self._surface, blur)
                lap("blur")
        image = self._encoder.image(self._surface, table)
        lap("read pixels (and exposure table)" if table is not None else "read pixels")
        image_bytes = self._encoder.encode_image(image)
        lap(f"{config.image_format.upper()} encode")

        features = dict(spec.features)
        features["blur"] = blur
        features["noise"] = noise
        features["exposure"] = exposure
        shows_seconds = hands.second is not None
        sample = ClockSample(
            image_bytes=image_bytes,
            image_format=config.image_format,
            width=size,
            height=size,
            watchface_id=f"{seed}-{face_index}",
            watchface_name=spec.description,
            body_id=spec.body.body_id,
            body_name=spec.body.name,
            face_index=face_index,
            hour=time.hour,
            minute=time.minute,
            second=time.second,
            shows_seconds=shows_seconds,
            hour_visible=True,
            minute_visible=True,
            second_visible=shows_seconds,
            hour_angle=time.hour_angle,
            minute_angle=time.minute_angle,
            second_angle=time.second_angle,
            features=features,
        )
        lap("sample fields")
        return sample
