"""The catalogue of watch and clock bodies: case shape, bezel, lugs, crown and what holds the watch.

A body is the structure only; metal and strap colours are chosen per face, so one body appears in many
finishes.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class BodySpec:
    body_id: int
    kind: str  # wristwatch, smartwatch, pocket_watch, wall_clock, alarm_clock, desk_clock
    case_shape: str  # round, square, rectangle, cushion, octagon, tonneau, oval, hexagon, rounded_square
    bezel: str  # plain, fluted, diver, tachymeter, knurled, stepped, gems, screws, thick, none
    holder: str  # leather, bracelet, mesh, rubber, nato, chain, wall, bells, stand, pendulum, base, arch
    crown: str = "round"  # round, onion, guarded, double, top, none
    pushers: bool = False  # chronograph pushers beside the crown
    lugs: str = "straight"  # straight, curved, wire, integrated, none

    @property
    def name(self) -> str:
        kind = self.kind.replace("_", " ")
        parts = [f"{self.case_shape.replace('_', ' ')} {kind}"]
        if self.bezel not in ("plain", "none"):
            parts.append(f"{self.bezel} bezel")
        if self.holder not in ("wall",):
            parts.append(f"on {self.holder}" if self.kind in ("wristwatch", "smartwatch") else f"with {self.holder}")
        if self.pushers:
            parts.append("chronograph pushers")
        if self.crown in ("onion", "guarded", "double"):
            parts.append(f"{self.crown} crown")
        if self.lugs in ("wire", "curved", "integrated") and self.kind == "wristwatch":
            parts.append(f"{self.lugs} lugs")
        return ", ".join(parts)

    @property
    def dial_shape(self) -> str:
        """The dial follows the case except where the case is only a frame around a round dial."""
        if self.case_shape in ("octagon", "hexagon"):
            return "round"
        return self.case_shape


def _catalogue() -> list[BodySpec]:
    rows = [
        # kind, case_shape, bezel, holder, crown, pushers, lugs
        ("wristwatch", "round", "plain", "leather", "round", False, "straight"),
        ("wristwatch", "round", "fluted", "bracelet", "round", False, "straight"),
        ("wristwatch", "round", "diver", "rubber", "guarded", False, "straight"),
        ("wristwatch", "round", "diver", "bracelet", "guarded", False, "straight"),
        ("wristwatch", "round", "tachymeter", "leather", "round", True, "straight"),
        ("wristwatch", "round", "tachymeter", "bracelet", "round", True, "straight"),
        ("wristwatch", "round", "plain", "mesh", "round", False, "integrated"),
        ("wristwatch", "round", "knurled", "nato", "round", False, "straight"),
        ("wristwatch", "round", "stepped", "leather", "onion", False, "curved"),
        ("wristwatch", "round", "gems", "bracelet", "round", False, "curved"),
        ("wristwatch", "round", "plain", "nato", "round", False, "straight"),
        ("wristwatch", "round", "thick", "rubber", "round", False, "straight"),
        ("wristwatch", "round", "plain", "leather", "onion", False, "wire"),
        ("wristwatch", "round", "diver", "nato", "round", False, "straight"),
        ("wristwatch", "round", "screws", "rubber", "guarded", False, "straight"),
        ("wristwatch", "round", "plain", "rubber", "double", False, "straight"),
        ("wristwatch", "round", "stepped", "bracelet", "round", True, "curved"),
        ("wristwatch", "square", "plain", "leather", "round", False, "straight"),
        ("wristwatch", "square", "plain", "bracelet", "round", False, "integrated"),
        ("wristwatch", "square", "screws", "rubber", "guarded", False, "straight"),
        ("wristwatch", "square", "gems", "mesh", "round", False, "straight"),
        ("wristwatch", "rectangle", "plain", "leather", "round", False, "straight"),
        ("wristwatch", "rectangle", "plain", "bracelet", "round", False, "integrated"),
        ("wristwatch", "rectangle", "stepped", "leather", "onion", False, "curved"),
        ("wristwatch", "rectangle", "plain", "mesh", "round", False, "straight"),
        ("wristwatch", "cushion", "plain", "leather", "round", False, "straight"),
        ("wristwatch", "cushion", "diver", "rubber", "guarded", False, "straight"),
        ("wristwatch", "cushion", "plain", "bracelet", "round", False, "integrated"),
        ("wristwatch", "cushion", "knurled", "nato", "onion", False, "straight"),
        ("wristwatch", "octagon", "screws", "bracelet", "round", False, "integrated"),
        ("wristwatch", "octagon", "screws", "rubber", "guarded", True, "integrated"),
        ("wristwatch", "tonneau", "plain", "leather", "round", False, "straight"),
        ("wristwatch", "tonneau", "plain", "rubber", "round", True, "integrated"),
        ("wristwatch", "oval", "plain", "leather", "round", False, "wire"),
        ("wristwatch", "oval", "gems", "bracelet", "round", False, "curved"),
        ("wristwatch", "hexagon", "plain", "leather", "round", False, "straight"),
        ("smartwatch", "rounded_square", "none", "rubber", "round", False, "integrated"),
        ("smartwatch", "rounded_square", "none", "mesh", "round", False, "integrated"),
        ("smartwatch", "round", "none", "leather", "round", True, "integrated"),
        ("pocket_watch", "round", "plain", "chain", "top", False, "none"),
        ("pocket_watch", "round", "fluted", "chain", "top", False, "none"),
        ("pocket_watch", "round", "knurled", "chain", "top", False, "none"),
        ("pocket_watch", "round", "thick", "chain", "top", False, "none"),
        ("wall_clock", "round", "thin", "wall", "none", False, "none"),
        ("wall_clock", "round", "thick", "wall", "none", False, "none"),
        ("wall_clock", "round", "stepped", "wall", "none", False, "none"),
        ("wall_clock", "round", "none", "wall", "none", False, "none"),
        ("wall_clock", "square", "thick", "wall", "none", False, "none"),
        ("wall_clock", "square", "thin", "wall", "none", False, "none"),
        ("wall_clock", "hexagon", "thick", "wall", "none", False, "none"),
        ("wall_clock", "octagon", "thick", "wall", "none", False, "none"),
        ("wall_clock", "round", "rays", "wall", "none", False, "none"),
        ("wall_clock", "round", "thick", "pendulum", "none", False, "none"),
        ("wall_clock", "cushion", "thick", "wall", "none", False, "none"),
        ("wall_clock", "round", "station", "wall", "none", False, "none"),
        ("alarm_clock", "round", "thick", "bells", "none", False, "none"),
        ("alarm_clock", "round", "thin", "stand", "none", False, "none"),
        ("alarm_clock", "square", "thick", "stand", "none", False, "none"),
        ("desk_clock", "round", "thick", "arch", "none", False, "none"),
        ("desk_clock", "round", "stepped", "base", "none", False, "none"),
        ("desk_clock", "rounded_square", "thick", "base", "none", False, "none"),
    ]
    return [BodySpec(i, *row) for i, row in enumerate(rows)]


BODIES: list[BodySpec] = _catalogue()
BODY_NAMES: list[str] = [body.name for body in BODIES]
