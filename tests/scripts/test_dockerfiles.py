"""The worker images, checked without Docker: each starts from Beam's SDK image for the Beam and Python this venv
runs (a worker must run the launcher's versions), installs through the same scripts/setup/*.sh that `make setup`
(and so CI) runs, copies only paths that exist and that .dockerignore lets through, and `make images` says
plainly when there is no Docker engine."""

import fnmatch
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import apache_beam
import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILES = {"cpu": REPO / "docker" / "worker-cpu.Dockerfile", "gpu": REPO / "docker" / "worker-gpu.Dockerfile"}
SETUP_PARTS = ("system", "npm", "python")
SDK_IMAGE = f"apache/beam_python{sys.version_info.major}.{sys.version_info.minor}_sdk"


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    lines = [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in text.splitlines() if line.strip()]


def arg_defaults(steps: list[tuple[str, str]]) -> dict[str, str]:
    return dict(shlex.split(value)[0].split("=", 1) for op, value in steps if op == "ARG" and "=" in value)


def expand(text: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: variables[m.group(1)], text)


def pyproject_extras() -> set[str]:
    return set(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"])


def allowed_by_dockerignore(path: str) -> bool:
    """Our .dockerignore: everything out, then `!path` entries back in (the last matching rule wins)."""
    keep = True
    for raw in (REPO / ".dockerignore").read_text().splitlines():
        rule = raw.strip()
        if not rule or rule.startswith("#"):
            continue
        negate, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/") or fnmatch.fnmatch(path, pattern + "/*"):
            keep = negate
    return keep


@pytest.mark.parametrize("kind", DOCKERFILES)
def test_base_image_is_beams_sdk_for_this_venv(kind):
    steps = instructions(DOCKERFILES[kind])
    variables = arg_defaults(steps)
    (base,) = [expand(value, variables) for op, value in steps if op == "FROM"]
    assert base == f"{SDK_IMAGE}:{apache_beam.__version__}"
    # The project's `apache-beam>=` must not move the image's Beam off the launcher's.
    run = " ".join(value for op, value in steps if op == "RUN")
    assert 'echo "apache-beam==${BEAM_VERSION}"' in run and "PIP_CONSTRAINT=" in run
    assert not any(op in ("ENTRYPOINT", "CMD") for op, _ in steps)  # Beam's boot entrypoint stays


@pytest.mark.parametrize("kind", DOCKERFILES)
def test_installs_through_the_setup_scripts(kind):
    steps = instructions(DOCKERFILES[kind])
    runs = [value for op, value in steps if op == "RUN"]
    for part in SETUP_PARTS:
        assert any(f"bash scripts/setup/{part}.sh" in run for run in runs), part
        assert (REPO / "scripts" / "setup" / f"{part}.sh").is_file()
    (python,) = [run for run in runs if "scripts/setup/python.sh" in run]
    assert "PIP_EDITABLE=0" in python and "VENV=/usr/local" in python  # the SDK image's Python, which boot runs
    extras = set(re.search(r'PIP_EXTRAS="([^"]+)"', python).group(1).split(","))
    assert extras <= pyproject_extras()
    assert {"docs", "llm", "asr", "ocr", "detect", "train", "gcp"} <= extras  # what the subsets' workers run
    assert ("vllm" in extras) == (kind == "gpu")


@pytest.mark.parametrize("kind", DOCKERFILES)
def test_every_copied_path_exists_and_reaches_the_build(kind):
    steps = instructions(DOCKERFILES[kind])
    copies = [shlex.split(value) for op, value in steps if op == "COPY"]
    sources = [source for *sources, _ in copies for source in sources if not source.startswith("--")]
    assert sources
    for source in sources:
        assert (REPO / source).exists(), source
        assert allowed_by_dockerignore(source.rstrip("/")), f"{source} is excluded by .dockerignore"
    # Every package the project installs is copied in.
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for pattern in packages["include"]:
        assert f"{pattern.rstrip('*')}/" in sources, pattern


def test_gpu_image_pins_vllms_torch_and_sets_the_libraries_ctranslate2_loads():
    steps = instructions(DOCKERFILES["gpu"])
    variables = arg_defaults(steps)
    vllm = [d for d in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["vllm"]]
    assert any(re.fullmatch(r"vllm==[\d.]+", d) for d in vllm), vllm  # its torch pins below hold for one version
    assert re.fullmatch(r"torch==[\d.]+ torchvision==[\d.]+", variables["TORCH_PACKAGES"])
    env = " ".join(value for op, value in steps if op == "ENV")
    assert "/opt/cuda12/nvidia/cublas/lib" in env and "nvidia-cublas-cu12==" in " ".join(v for _, v in steps)
    assert "scripts/gpu_check.py" in " ".join(value for op, value in steps if op == "COPY")


def test_make_images_without_a_docker_engine_says_so():
    done = subprocess.run(["make", "images", "DOCKER=false"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "no Docker engine here" in done.stdout and "no images were built" in done.stdout
