"""Build a subset in a hidden staging folder and swap it in only when complete.

`OUTPUT/.SUBSET.incomplete-RUNID/` holds a run in progress; `OUTPUT/SUBSET/` only ever holds a finished run
(its `manifest.json`, written last, is the proof). RUNID is a hash of everything that decides the rows, so
rerunning an interrupted command finds its staging folder and keeps the shards already written.
"""

import hashlib
import json
import os
import shutil
from typing import Any

from apache_beam.io.filesystems import FileSystems

from pipelines.common.shards import ensure_dir

MANIFEST = "manifest.json"


def run_id(fingerprint: dict[str, Any]) -> str:
    """A short stable hash of what decides the rows (arguments that matter, code version)."""
    text = json.dumps(fingerprint, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def join(*parts: str) -> str:
    return FileSystems.join(*parts) if "://" in parts[0] else os.path.join(*parts)


def is_local(path: str) -> bool:
    return "://" not in path


class Staging:
    """Paths of one run, and the final swap."""

    def __init__(self, output_root: str, subset: str, rid: str) -> None:
        self.output_root = output_root.rstrip("/") or "/"
        self.subset = subset
        self.run_id = rid
        self.final_dir = join(self.output_root, subset)
        self.dir = join(self.output_root, f".{subset}.incomplete-{rid}")

    def path(self, *parts: str) -> str:
        return join(self.dir, *parts)

    def prepare(self, restart: bool) -> bool:
        """Create the staging folder; remove stale ones of other runs. True when resuming earlier work."""
        for stale in self._other_staging_dirs():
            _remove_tree(stale)
        resuming = FileSystems.exists(self.dir) and not restart
        if FileSystems.exists(self.dir) and restart:
            _remove_tree(self.dir)
        ensure_dir(self.dir)
        return resuming

    def clear_all_but(self, keep: str) -> None:
        """Delete everything in the staging folder except the relative path `keep` (a record flow's work of the
        current plan): derived files are rewritten by every run, and another plan's files must never be counted."""
        parts = [p for p in keep.split("/") if p]
        if is_local(self.dir):
            _clear_local(self.dir, parts)
            return
        kept_prefix = join(self.dir, *parts) + "/"
        doomed = [m.path for m in FileSystems.match([self.dir + "/**"])[0].metadata_list]
        doomed = [p for p in doomed if not p.startswith(kept_prefix)]
        if doomed:
            FileSystems.delete(doomed)

    def publish(self) -> None:
        """Replace OUTPUT/SUBSET with the staging folder. Call after the manifest is written into it."""
        if not FileSystems.exists(self.path(MANIFEST)):
            raise RuntimeError(f"refusing to publish {self.dir}: it has no {MANIFEST}")
        if is_local(self.dir):
            old = join(self.output_root, f".{self.subset}.replaced-{self.run_id}")
            if os.path.exists(old):
                shutil.rmtree(old)
            if os.path.exists(self.final_dir):
                # The manifest goes first, so a crash mid-swap never leaves a complete-looking old copy.
                _remove_if_exists(join(self.final_dir, MANIFEST))
                os.rename(self.final_dir, old)
            os.rename(self.dir, self.final_dir)
            if os.path.exists(old):
                shutil.rmtree(old)
            return
        self._publish_by_copy()

    def _publish_by_copy(self) -> None:
        """Object stores have no atomic folder rename: copy file by file, manifest last."""
        if FileSystems.exists(self.final_dir):
            _remove_if_exists(join(self.final_dir, MANIFEST))
            _remove_tree(self.final_dir)
        sources = [m.path for m in FileSystems.match([self.dir + "/**"])[0].metadata_list]
        sources.sort(key=lambda p: p.endswith("/" + MANIFEST))
        for source in sources:
            target = self.final_dir + source[len(self.dir) :]
            FileSystems.copy([source], [target])
        _remove_tree(self.dir)

    def _other_staging_dirs(self) -> list[str]:
        if is_local(self.output_root):
            if not os.path.isdir(self.output_root):
                return []
            prefixes = (f".{self.subset}.incomplete-", f".{self.subset}.replaced-")
            return [
                join(self.output_root, name)
                for name in os.listdir(self.output_root)
                if name.startswith(prefixes) and join(self.output_root, name) != self.dir
            ]
        return []  # remote stale folders are left for the bucket's lifecycle rules


def _clear_local(folder: str, keep: list[str]) -> None:
    if not os.path.isdir(folder):
        return
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if keep and name == keep[0]:
            if len(keep) > 1:
                _clear_local(path, keep[1:])
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


def _remove_if_exists(path: str) -> None:
    if FileSystems.exists(path):
        FileSystems.delete([path])


def _remove_tree(path: str) -> None:
    if is_local(path):
        shutil.rmtree(path, ignore_errors=True)
    elif FileSystems.exists(path):
        FileSystems.delete([path])
