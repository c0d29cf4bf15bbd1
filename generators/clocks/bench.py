"""Bare-generator speed on one core: python -m generators.clocks.bench [--n 400] [--format jpeg]."""

import argparse
import time

from .config import ClockConfig
from .encode import Encoder
from .generator import ClockGenerator, _new_surface


def bare_generate_throughput(n: int, config: ClockConfig, seed: int = 0, start: int = 0) -> float:
    """Images per second for generate() over n consecutive indices, cold face cache included."""
    generator = ClockGenerator(config)
    began = time.perf_counter()
    for index in range(start, start + n):
        generator.generate(seed, index)
    return n / (time.perf_counter() - began)


def encode_floor_throughput(n: int, config: ClockConfig, seed: int = 0) -> float:
    """Images per second for encoding alone, re-encoding real generated frames."""
    generator = ClockGenerator(config)
    frames = []
    for index in range(0, 16 * config.samples_per_face, config.samples_per_face):
        generator.generate(seed, index)
        frame = _new_surface(config.image_size)
        frame.getCanvas().drawImage(generator._surface.makeImageSnapshot(), 0, 0)
        frames.append(frame)
    encoder = Encoder(config.image_size, config.image_format, config.jpeg_quality, config.png_compress_level)
    began = time.perf_counter()
    for k in range(n):
        encoder.encode(frames[k % len(frames)])
    return n / (time.perf_counter() - began)


def face_and_sample_costs(config: ClockConfig, faces: int = 20, seed: int = 0) -> tuple[float, float]:
    """Milliseconds to render one face's static layers, and to make one sample of a cached face."""
    generator = ClockGenerator(config)
    began = time.perf_counter()
    for face_index in range(faces):
        generator.face_layers(seed, face_index)
    face_ms = (time.perf_counter() - began) * 1000 / faces
    began = time.perf_counter()
    count = 0
    for face_index in range(faces):
        for k in range(config.samples_per_face):
            generator.generate(seed, face_index * config.samples_per_face + k)
            count += 1
    sample_ms = (time.perf_counter() - began) * 1000 / count
    return face_ms, sample_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--size", type=int, default=448)
    parser.add_argument("--format", default="jpeg", choices=["jpeg", "png"])
    parser.add_argument("--samples-per-face", type=int, default=16)
    args = parser.parse_args()
    config = ClockConfig(image_size=args.size, image_format=args.format, samples_per_face=args.samples_per_face)
    bare_generate_throughput(32, config, seed=1)  # warm up imports, fonts and allocations
    rate = bare_generate_throughput(args.n, config)
    floor = encode_floor_throughput(max(50, args.n // 4), config)
    face_ms, sample_ms = face_and_sample_costs(config)
    print(
        f"bare generate : {rate:8.1f} images/s ({args.n} consecutive indices, {args.size}px {args.format}, "
        f"{args.samples_per_face} samples per face, one core)"
    )
    print(f"encode floor  : {floor:8.1f} images/s (encoding alone)")
    print(f"face render   : {face_ms:8.2f} ms per face (once per {args.samples_per_face} samples)")
    print(f"cached sample : {sample_ms:8.2f} ms per sample (face already cached)")


if __name__ == "__main__":
    main()
