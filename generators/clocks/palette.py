"""Named colour families for dials, metals, straps and backgrounds (RGB 0-255)."""

DIAL_COLOURS: dict[str, list[tuple[int, int, int]]] = {
    "white": [(246, 246, 242), (252, 252, 250), (236, 238, 240)],
    "cream": [(240, 230, 205), (233, 222, 196), (245, 236, 214)],
    "silver": [(200, 203, 208), (214, 216, 220), (188, 192, 198)],
    "black": [(18, 18, 20), (30, 30, 34), (10, 12, 16)],
    "grey": [(92, 96, 102), (120, 122, 126), (70, 74, 80)],
    "blue": [(22, 46, 110), (30, 70, 140), (16, 34, 80), (60, 100, 170)],
    "green": [(20, 74, 52), (40, 90, 60), (70, 110, 70)],
    "red": [(120, 20, 30), (150, 30, 36), (96, 16, 28)],
    "champagne": [(214, 190, 140), (200, 172, 120), (226, 204, 160)],
    "brown": [(92, 60, 38), (110, 74, 46), (70, 46, 30)],
    "salmon": [(232, 160, 130), (222, 150, 124)],
    "teal": [(20, 110, 120), (30, 130, 140)],
    "purple": [(70, 40, 100), (90, 50, 120)],
    "orange": [(220, 110, 30), (200, 90, 20)],
}
# How often each family appears: mostly classic dials, some colourful ones.
DIAL_COLOUR_WEIGHTS = {
    "white": 14,
    "cream": 6,
    "silver": 8,
    "black": 14,
    "grey": 5,
    "blue": 10,
    "green": 5,
    "red": 3,
    "champagne": 4,
    "brown": 3,
    "salmon": 2,
    "teal": 2,
    "purple": 1,
    "orange": 1,
}

METALS: dict[str, tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]] = {
    # name: (highlight, base, shadow)
    "steel": ((245, 247, 250), (176, 180, 186), (88, 92, 98)),
    "gold": ((255, 240, 180), (212, 172, 84), (120, 88, 30)),
    "rose gold": ((255, 222, 200), (206, 148, 120), (120, 72, 56)),
    "black": ((120, 122, 128), (40, 40, 44), (10, 10, 12)),
    "titanium": ((200, 200, 196), (128, 128, 126), (64, 64, 64)),
    "bronze": ((230, 190, 140), (160, 110, 60), (80, 50, 24)),
    "white": ((255, 255, 255), (232, 232, 230), (170, 170, 168)),
    "red": ((240, 110, 100), (190, 40, 36), (100, 16, 16)),
    "blue": ((120, 160, 230), (40, 80, 170), (16, 32, 80)),
    "wood": ((190, 130, 80), (130, 80, 44), (70, 40, 20)),
    "green": ((120, 200, 140), (40, 130, 70), (16, 60, 30)),
}
WRIST_METALS = ["steel", "steel", "steel", "gold", "rose gold", "black", "titanium", "bronze"]
CLOCK_METALS = ["black", "white", "steel", "wood", "gold", "red", "blue", "green", "black", "white", "wood"]

STRAP_COLOURS: dict[str, list[tuple[int, int, int]]] = {
    "leather": [(92, 52, 28), (40, 26, 18), (20, 20, 20), (140, 86, 46), (60, 40, 30), (120, 30, 30)],
    "rubber": [(20, 20, 22), (30, 40, 80), (200, 200, 200), (140, 30, 30), (40, 70, 50), (230, 120, 30)],
    "nato": [(40, 50, 70), (60, 70, 40), (110, 20, 30), (30, 30, 30), (120, 120, 110)],
}

# Colours hands and markers take on a light or a dark dial.
DARK_INK = [(20, 20, 22), (30, 30, 40), (10, 20, 50), (40, 30, 25)]
LIGHT_INK = [(245, 245, 240), (236, 236, 232), (250, 246, 228)]
ACCENTS = [(210, 30, 30), (230, 120, 20), (220, 180, 30), (40, 120, 220), (40, 170, 90), (240, 240, 240)]
LUME = (226, 236, 200)


def luminance(rgb: tuple[int, int, int]) -> float:
    r, g, b = rgb
    return (0.299 * r + 0.587 * g + 0.114 * b) / 255.0


def jitter(rng, rgb: tuple[int, int, int], amount: int = 12) -> tuple[int, int, int]:
    """A nearby colour, so two faces of one family are not pixel-identical."""
    return tuple(int(min(255, max(0, c + rng.integers(-amount, amount + 1)))) for c in rgb)


def mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b, strict=True))
