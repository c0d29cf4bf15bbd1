"""The one way the record-flow subsets read an image: a path, gs:// object or http(s) URL -> decoded, checked,
hashed bytes, or a MediaError with the reason. Many at once stream through a thread pool with a per-host limit,
so one slow or hanging server holds one download slot, never the others.
"""

from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from apache_beam.io.filesystems import FileSystems

from media import DecodeConfig, FetchConfig, MediaError, decode_image, fetch_url, perceptual_hash, sha256_hex
from media.urls import host_of, redact


@dataclass
class LoadedImage:
    """A decoded, normalised image; `data` is what a row stores (see media/decode.py)."""

    key: str  # the path or URL it came from
    data: bytes
    mime: str
    width: int
    height: int
    sha256: str
    source_format: str
    phash: str = ""
    changes: list[str] = field(default_factory=list)

    @property
    def extension(self) -> str:
        return "jpg" if self.mime == "image/jpeg" else "png"

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def animated(self) -> bool:
        return "first_frame" in self.changes


def add_image_limit_arguments(parser: Any) -> None:
    """--max-image-bytes and --max-image-pixels, for every subset that reads images from the outside."""
    parser.add_argument(
        "--max-image-bytes", type=int, default=32 * 1024 * 1024, help="Size cap per image (default: 32 MiB)."
    )
    parser.add_argument(
        "--max-image-pixels",
        type=int,
        default=64_000_000,
        help="Pixel cap per image; bigger ones are refused as decompression bombs (default: 64e6).",
    )


def is_url(ref: str) -> bool:
    return ref.lower().startswith(("http://", "https://"))


def read_capped(path: str, max_bytes: int) -> bytes:
    """A file through Beam's FileSystems (local, gs://, ...), refused when it is over `max_bytes`."""
    with FileSystems.open(path) as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise MediaError(f"too large: more than the {max_bytes}-byte cap")
    return data


def read_source(ref: str, fetch: FetchConfig) -> bytes:
    """The bytes of a path, object-store URL or http(s) URL, within the size cap; MediaError when unreadable."""
    if is_url(ref):
        return fetch_url(ref, fetch).data
    try:
        return read_capped(ref, fetch.max_bytes)
    except MediaError:
        raise
    except Exception as error:  # missing file, permissions, filesystem errors: this input, not the run
        raise MediaError(f"cannot read the image: {type(error).__name__}: {error}") from None


def load_image(ref: str, fetch: FetchConfig, decode: DecodeConfig, with_phash: bool = False) -> LoadedImage:
    """Read and decode one image; MediaError(reason) when it cannot be used. The reason's stage is the caller's:
    `download` for a read failure, `decode` for the rest (MediaError.details["stage"])."""
    try:
        data = read_source(ref, fetch)
    except MediaError as error:
        error.details.setdefault("stage", "download")
        raise
    try:
        decoded = decode_image(data, decode)
    except MediaError as error:
        error.details.setdefault("stage", "decode")
        raise
    return LoadedImage(
        key=ref,
        data=decoded.data,
        mime=decoded.mime,
        width=decoded.width,
        height=decoded.height,
        sha256=sha256_hex(decoded.data),
        source_format=decoded.source_format,
        phash=perceptual_hash(decoded.image) if with_phash else "",
        changes=decoded.changes,
    )


def load_images(
    refs: Iterable[str],
    fetch: FetchConfig,
    decode: DecodeConfig,
    threads: int = 16,
    per_host: int = 4,
    with_phash: bool = False,
) -> Iterator[tuple[str, LoadedImage | MediaError]]:
    """(ref, image or its MediaError) for each ref, as downloads finish (not in order).

    At most `threads` at once and `per_host` per host, so a slow host neither holds the others nor gets
    hammered; local and object-store paths count as one host each."""
    queues: dict[str, deque[str]] = defaultdict(deque)
    for ref in refs:
        queues[host_of(ref) if is_url(ref) else "(files)"].append(ref)
    running: dict[Future, tuple[str, str]] = {}
    per_host_running: dict[str, int] = defaultdict(int)
    with ThreadPoolExecutor(max(1, threads)) as pool:

        def submit_eligible() -> None:
            for host, queue in queues.items():
                limit = per_host if host != "(files)" else threads
                while queue and per_host_running[host] < limit and len(running) < threads:
                    ref = queue.popleft()
                    running[pool.submit(_load_one, ref, fetch, decode, with_phash)] = (host, ref)
                    per_host_running[host] += 1

        submit_eligible()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                host, ref = running.pop(future)
                per_host_running[host] -= 1
                yield ref, future.result()
            submit_eligible()


def load_for_refs(
    refs: Iterable[Any], image_of: Callable[[Any], str], fetch: FetchConfig, decode: DecodeConfig, **limits: Any
) -> Iterator[tuple[Any, str, LoadedImage | MediaError]]:
    """(ref, its image ref, the image or its MediaError) for every ref; refs sharing an image load it once."""
    by_image: dict[str, list[Any]] = {}
    for ref in refs:
        by_image.setdefault(image_of(ref), []).append(ref)
    for image, loaded in load_images(by_image, fetch, decode, **limits):
        for ref in by_image[image]:
            yield ref, image, loaded


def _load_one(ref: str, fetch: FetchConfig, decode: DecodeConfig, with_phash: bool) -> LoadedImage | MediaError:
    try:
        return load_image(ref, fetch, decode, with_phash)
    except MediaError as error:
        return error
    except Exception as error:  # a bug or an odd filesystem error: this image's dead letter, not a crash
        return MediaError(f"{type(error).__name__}: {error}", stage="decode", url=redact(ref))
