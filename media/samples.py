"""Sample photos that ship inside an installed package, for embedded defaults and tests (no network)."""

import importlib.util
import os


def bundled_images_dir() -> str | None:
    """ultralytics' own sample images (bus.jpg, zidane.jpg), found without importing it (slow to import)."""
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "assets")
    return path if os.path.isdir(path) else None
