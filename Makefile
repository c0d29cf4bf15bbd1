# The two commands a new machine needs (see README): `make demo` and `make test`. Both set up first.
PY := .venv/bin/python
DEMO_OUTPUT ?= ./data
# Worker images (docker/): `make images IMAGE_REPO=REGION-docker.pkg.dev/PROJECT/REPO`, then docker push them.
DOCKER ?= docker
IMAGE_REPO ?= pixmo
IMAGE_TAG ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: setup demo test lint bench images clean

setup:
	@bash scripts/setup.sh

demo: setup
	$(PY) beam_runner.py clocks --output $(DEMO_OUTPUT)

# Two test processes where there are two cores (one where there is one), a whole file each: its module fixtures
# (models loaded, subsets built) run once. 24 -> 14 min on the 2-core VM; more processes would only contend.
test: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -q -n auto --maxprocesses 2 --dist loadfile

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: setup
	$(PY) bench/clocks.py

# Builds where a Docker engine answers; elsewhere says so and fails (nothing half-built).
images:
	@$(DOCKER) info >/dev/null 2>&1 || { \
	  echo "make images: no Docker engine here ('$(DOCKER) info' failed), so no images were built."; \
	  echo "  Run 'make images IMAGE_REPO=...' on a machine with Docker, from a clone of this repository."; \
	  exit 1; }
	$(DOCKER) build -f docker/worker-cpu.Dockerfile -t $(IMAGE_REPO)/pixmo-worker-cpu:$(IMAGE_TAG) .
	$(DOCKER) build -f docker/worker-gpu.Dockerfile -t $(IMAGE_REPO)/pixmo-worker-gpu:$(IMAGE_TAG) .
	@echo "built $(IMAGE_REPO)/pixmo-worker-cpu:$(IMAGE_TAG) and $(IMAGE_REPO)/pixmo-worker-gpu:$(IMAGE_TAG)"

clean:
	rm -rf $(DEMO_OUTPUT) .setup-stamps
