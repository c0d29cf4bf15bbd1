"""Typefaces from the Debian font packages, loaded without fontconfig.

skia's default font manager is fontconfig, and the copy bundled with skia-python is older than the system's
configuration: creating it prints "Fontconfig warning: ... unknown element" at the start of every run. The
faces here are named files, so an empty font manager loads them directly and fontconfig is never started.
"""

import functools
import os

import skia

_FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation"]
FONT_FILES = {
    "sans": ["DejaVuSans.ttf", "LiberationSans-Regular.ttf"],
    "sans_bold": ["DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf"],
    "serif": ["LiberationSerif-Regular.ttf", "DejaVuSerif.ttf"],
    "serif_bold": ["DejaVuSerif-Bold.ttf", "LiberationSerif-Bold.ttf"],
    "serif_italic": ["LiberationSerif-Italic.ttf", "DejaVuSerif-Italic.ttf"],
    "condensed": ["DejaVuSansCondensed-Bold.ttf", "LiberationSansNarrow-Bold.ttf"],
    "mono": ["LiberationMono-Regular.ttf", "DejaVuSansMono.ttf"],
    "narrow": ["LiberationSansNarrow-Regular.ttf", "DejaVuSansCondensed.ttf"],
}


@functools.cache
def _file_font_manager() -> skia.FontMgr:
    return skia.FontMgr.New_Custom_Empty()


@functools.cache
def typeface(name: str) -> skia.Typeface:
    for file_name in FONT_FILES[name]:
        for folder in _FONT_DIRS:
            path = os.path.join(folder, file_name)
            if os.path.exists(path):
                face = _file_font_manager().makeFromFile(path)
                if face is not None:
                    return face
    # Only without the Debian font packages: fontconfig picks whatever sans face is installed (and may warn).
    return skia.Typeface("sans-serif")


def font(name: str, size: float) -> skia.Font:
    f = skia.Font(typeface(name), size)
    f.setEdging(skia.Font.Edging.kAntiAlias)
    f.setSubpixel(True)
    return f
