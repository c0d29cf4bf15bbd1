"""FaceSpec: every static choice of one watch face (body, dial, markers, hands, scene), drawn from one rng."""

from dataclasses import dataclass

import numpy as np

from .bodies import BODIES, BodySpec
from .config import ClockConfig
from .palette import (
    ACCENTS,
    CLOCK_METALS,
    DARK_INK,
    DIAL_COLOUR_WEIGHTS,
    DIAL_COLOURS,
    LIGHT_INK,
    LUME,
    STRAP_COLOURS,
    WRIST_METALS,
    jitter,
    luminance,
    mix,
)
from .randomness import chance, pick

DIAL_TEXTURES = ["plain", "sunburst", "fume", "guilloche", "sector", "linen", "gradient", "carbon"]
NUMERAL_STYLES = ["arabic", "roman", "arabic_cardinal", "roman_cardinal", "none", "arabic_24h"]
INDEX_STYLES = ["minute_ticks", "batons", "dots", "triangles", "railway", "double_batons", "diver", "none"]
HAND_STYLES = [
    "baton",
    "sword",
    "arrow",
    "leaf",
    "dauphine",
    "skeleton",
    "breguet",
    "mercedes",
    "spade",
    "pencil",
    "syringe",
    "alpha",
]
SECOND_HAND_STYLES = ["needle", "lollipop", "arrow_tip", "counterweight"]
BACKGROUNDS = ["gradient", "wood", "fabric", "bokeh", "marble", "wall", "desk", "plain"]
FONTS = ["sans", "sans_bold", "serif", "serif_bold", "condensed", "mono", "narrow", "serif_italic"]
BRAND_SYLLABLES = [
    "AU",
    "RE",
    "LIS",
    "KRON",
    "BERG",
    "TI",
    "MO",
    "VA",
    "NOR",
    "DEN",
    "SOL",
    "AR",
    "CHRO",
    "LUX",
    "OR",
    "ION",
    "MER",
    "CA",
    "TEL",
    "VEX",
    "ZEN",
    "HAL",
    "PRI",
    "MA",
    "STA",
    "FOR",
]
MODEL_LINES = [
    "AUTOMATIC",
    "QUARTZ",
    "CHRONOMETER",
    "WATER RESISTANT",
    "200M",
    "SWISS MADE",
    "GMT",
    "DIVER",
    "OFFICIALLY CERTIFIED",
    "SELF-WINDING",
    "25 JEWELS",
    "PILOT",
    "SUPERLATIVE",
    "ANTIMAGNETIC",
]
DAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Camera:
    tilt_x: float  # degrees, out of plane
    tilt_y: float
    rotation: float  # degrees, in plane
    fill: float  # fraction of the image the case spans
    offset_x: float  # fraction of the image size
    offset_y: float
    distance: float  # in dial radii; smaller means stronger perspective


@dataclass(frozen=True)
class FaceSpec:
    body: BodySpec
    metal: str
    strap_colour: RGB
    dial_family: str
    dial_colour: RGB
    dial_texture: str
    ink: RGB  # numerals, markers and text
    accent: RGB
    numerals: str
    numeral_font: str
    numerals_radial: bool
    index_style: str
    minute_track: bool
    hand_style: str
    hand_colour: RGB
    hand_outline: RGB | None
    hand_lume: bool
    hand_metal: str  # polished hands in this metal, or "" for painted ones
    has_second_hand: bool
    second_hand_style: str
    second_colour: RGB
    has_alarm_hand: bool
    alarm_colour: RGB
    subdials: int
    date_window: str  # none, date, day_date
    date_text: str
    brand: str
    model_line: str
    logo: str  # none, crown, star, shield
    background: str
    background_colours: tuple[RGB, RGB]
    camera: Camera
    light_angle: float  # degrees: where the light comes from, drives highlights and hand shadows
    shadow_strength: float
    glass_strength: float
    noise_strength: float
    distractor_lines: int
    scene_seed: int  # for textures drawn with their own rng (wood grain, bokeh)

    @property
    def description(self) -> str:
        numerals = {"none": "no numerals", "arabic_24h": "arabic numerals with 24h ring"}.get(
            self.numerals, f"{self.numerals.replace('_', ' ')} numerals"
        )
        texture = "" if self.dial_texture == "plain" else f" {self.dial_texture}"
        return f"{self.metal} {self.body.name}, {self.dial_family}{texture} dial, {numerals}, {self.hand_style} hands"

    @property
    def features(self) -> dict[str, str]:
        tilt = max(abs(self.camera.tilt_x), abs(self.camera.tilt_y))
        return {
            "body_kind": self.body.kind,
            "body_shape": self.body.case_shape,
            "bezel": self.body.bezel,
            "holder": self.body.holder,
            "metal": self.metal,
            "dial_colour": self.dial_family,
            "dial_texture": self.dial_texture,
            "numerals": self.numerals,
            "index_style": self.index_style,
            "hand_style": self.hand_style,
            "hand_finish": "polished" if self.hand_metal else "lume" if self.hand_lume else "painted",
            "second_hand_style": self.second_hand_style if self.has_second_hand else "none",
            "has_alarm_hand": str(self.has_alarm_hand).lower(),
            "subdials": str(self.subdials),
            "has_date_window": str(self.date_window != "none").lower(),
            "has_brand_text": str(bool(self.brand)).lower(),
            "background": self.background,
            "perspective": "none" if tilt < 3 else "mild" if tilt < 15 else "strong",
            "rotation": "none"
            if abs(self.camera.rotation) < 3
            else "mild"
            if abs(self.camera.rotation) < 15
            else "strong",
            "distractor_lines": str(self.distractor_lines > 0).lower(),
        }


def _brand(rng: np.random.Generator) -> str:
    syllables: list[str] = []
    while len(syllables) < int(rng.integers(2, 4)) or not syllables:
        syllable = pick(rng, BRAND_SYLLABLES)
        if not syllables or syllable != syllables[-1]:  # no stutters like "CACA"
            syllables.append(syllable)
    word = "".join(syllables)
    return word if chance(rng, 0.7) else word.capitalize()


def _camera(rng: np.random.Generator, config: ClockConfig, body: BodySpec) -> Camera:
    if not config.effects or config.debug_hand_colours:
        return Camera(0.0, 0.0, 0.0, 0.78, 0.0, 0.0, 12.0)
    # Most photos look nearly straight at the watch; a minority are strongly tilted.
    strength = pick(rng, [0.15, 0.5, 1.0], [0.45, 0.35, 0.2])
    tilt = config.max_tilt_degrees * strength
    rotation = config.max_rotation_degrees * float(rng.triangular(-1, 0, 1))
    fill = (
        float(rng.uniform(0.62, 0.88)) if body.kind in ("wristwatch", "smartwatch") else float(rng.uniform(0.55, 0.8))
    )
    return Camera(
        tilt_x=float(rng.uniform(-tilt, tilt)),
        tilt_y=float(rng.uniform(-tilt, tilt)),
        rotation=rotation,
        fill=fill,
        offset_x=float(rng.uniform(-0.06, 0.06)),
        offset_y=float(rng.uniform(-0.06, 0.06)),
        distance=float(rng.uniform(5.0, 14.0)),
    )


def _hand_colours(rng: np.random.Generator, dial: RGB) -> tuple[RGB, RGB | None, bool, str]:
    """Hands contrast with the dial: dark or polished gold/blued on light dials; light, lumed or polished
    steel on dark ones. Returns (colour, outline, lume, polished metal or "")."""
    if luminance(dial) > 0.55:
        metal = pick(rng, ["", "", "black", "blue", "gold"])
        colour = pick(rng, DARK_INK + [(40, 60, 130), (110, 70, 20)])
        return colour, None, False, metal
    lume = chance(rng, 0.5)
    metal = "" if lume else pick(rng, ["", "steel", "gold", "white"])
    colour = pick(rng, LIGHT_INK + [(230, 200, 120)]) if not lume else (240, 240, 236)
    outline = (60, 60, 64) if lume or chance(rng, 0.3) else None
    return colour, outline, lume, metal


def sample_face(rng: np.random.Generator, config: ClockConfig) -> FaceSpec:
    body = BODIES[int(rng.integers(len(BODIES)))]
    wrist = body.kind in ("wristwatch", "smartwatch", "pocket_watch")
    metal = pick(rng, WRIST_METALS if wrist else CLOCK_METALS)
    strap_kind = body.holder if body.holder in STRAP_COLOURS else "leather"
    strap_colour = jitter(rng, pick(rng, STRAP_COLOURS[strap_kind]), 8)

    families = list(DIAL_COLOURS)
    dial_family = pick(rng, families, [DIAL_COLOUR_WEIGHTS[f] for f in families])
    if not wrist and chance(rng, 0.6):
        dial_family = pick(rng, ["white", "cream", "white", "black"])  # wall clocks are mostly plain white
    dial_colour = jitter(rng, pick(rng, DIAL_COLOURS[dial_family]), 8)
    dial_texture = pick(rng, DIAL_TEXTURES, [30, 14, 12, 7, 6, 5, 8, 3] if wrist else [60, 3, 5, 2, 4, 3, 8, 1])
    light_dial = luminance(dial_colour) > 0.55
    ink = pick(rng, DARK_INK) if light_dial else pick(rng, LIGHT_INK + [LUME])

    numerals = pick(rng, NUMERAL_STYLES, [34, 16, 14, 8, 22, 6] if wrist else [60, 14, 8, 3, 10, 5])
    index_style = pick(rng, INDEX_STYLES, [26, 18, 10, 6, 10, 6, 8, 2])
    if numerals == "none" and index_style in ("none", "minute_ticks"):
        index_style = pick(rng, ["batons", "dots", "diver", "double_batons"])  # keep the hours findable
    hand_style = pick(rng, HAND_STYLES)
    hand_colour, hand_outline, hand_lume, hand_metal = _hand_colours(rng, dial_colour)
    has_second = chance(rng, config.second_hand_probability)
    subdials = int(pick(rng, [0, 1, 2, 3], [70, 12, 8, 10]))
    if not wrist or body.dial_shape not in ("round", "cushion"):
        subdials = 0  # sub-dials belong on round watch dials
    date_window = pick(rng, ["none", "date", "day_date"], [65, 28, 7])
    day = int(rng.integers(1, 32))
    date_text = str(day) if date_window == "date" else f"{pick(rng, DAYS)} {day}"

    if config.debug_hand_colours:
        # A plain white dial with nothing on it but the hands, so tests can find the hand pixels exactly.
        dial_family, dial_colour, dial_texture = "white", (255, 255, 255), "plain"
        numerals, index_style, subdials, date_window, has_second = "none", "none", 0, "none", True

    background = pick(rng, BACKGROUNDS, [16, 14, 12, 14, 8, 12, 12, 6])
    vivid = tuple(int(v) for v in rng.integers(30, 230, 3))
    base = mix(vivid, (128, 128, 128), float(rng.uniform(0.3, 0.8)))  # real surfaces are rarely saturated
    return FaceSpec(
        body=body,
        metal=metal,
        strap_colour=strap_colour,
        dial_family=dial_family,
        dial_colour=dial_colour,
        dial_texture=dial_texture,
        ink=ink,
        accent=pick(rng, ACCENTS),
        numerals=numerals,
        numeral_font=pick(rng, FONTS),
        numerals_radial=chance(rng, 0.15),
        index_style=index_style,
        minute_track=chance(rng, 0.35),
        hand_style=hand_style,
        hand_colour=hand_colour,
        hand_outline=hand_outline,
        hand_lume=hand_lume,
        hand_metal=hand_metal,
        has_second_hand=has_second,
        second_hand_style=pick(rng, SECOND_HAND_STYLES),
        second_colour=pick(rng, [(200, 30, 30), (220, 60, 20), hand_colour, (230, 180, 40)]),
        has_alarm_hand=chance(rng, config.alarm_hand_probability) and not config.debug_hand_colours,
        alarm_colour=pick(rng, [(220, 180, 40), (40, 120, 220), (220, 80, 40)]),
        subdials=subdials,
        date_window=date_window,
        date_text=date_text,
        brand=_brand(rng) if chance(rng, 0.6 if wrist else 0.25) else "",
        model_line=pick(rng, MODEL_LINES) if chance(rng, 0.5) else "",
        logo=pick(rng, ["none", "crown", "star", "shield"], [70, 10, 10, 10]),
        background=background,
        background_colours=(jitter(rng, base, 10), jitter(rng, tuple(int(c * 0.55) for c in base), 10)),
        camera=_camera(rng, config, body),
        light_angle=float(rng.uniform(0, 360)),
        shadow_strength=float(rng.uniform(0.25, 0.6)),
        glass_strength=float(rng.uniform(0.0, 1.0)),
        noise_strength=float(rng.choice([0.0, rng.uniform(0.02, 0.07)], p=[0.3, 0.7])),
        distractor_lines=int(rng.integers(1, 4)) if chance(rng, config.distractor_line_probability) else 0,
        scene_seed=int(rng.integers(2**31)),
    )
