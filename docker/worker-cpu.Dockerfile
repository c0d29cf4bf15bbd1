# syntax=docker/dockerfile:1
# Dataflow worker image for every subset's CPU steps (Beam custom-container mode, Runner v2):
#   make images    ->  pixmo-worker-cpu:VERSION;  then  --sdk_container_image IMAGE --experiments use_runner_v2
# Beam's own SDK image, for the Beam and Python versions the launcher runs (tests/scripts/test_dockerfiles.py checks
# them against .venv), plus what `make setup` installs, by the same scripts: the Debian packages (fonts, Chromium,
# TeX, Graphviz, poppler, ffmpeg, espeak-ng, OpenCV's libraries), the Mermaid bundle, and the project with its extras
# and weight packages in the image's own Python, whose Beam the SDK boot entrypoint runs.
ARG BEAM_VERSION=2.77.0
FROM apache/beam_python3.11_sdk:${BEAM_VERSION}
ARG BEAM_VERSION

ENV DEBIAN_FRONTEND=noninteractive \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIXMO_MERMAID_JS=/opt/pixmo/src/node_modules/mermaid/dist/mermaid.min.js
WORKDIR /opt/pixmo/src

# Layers from the least to the most often changed: Debian packages, npm packages, Python packages + the project.
COPY scripts/setup/ scripts/setup/
RUN bash scripts/setup/system.sh && rm -rf /var/lib/apt/lists/*

COPY package.json package-lock.json ./
RUN bash scripts/setup/npm.sh && npm cache clean --force

COPY pyproject.toml setup.py README.md ./
COPY schemas/ schemas/
COPY media/ media/
COPY formatting/ formatting/
COPY generators/ generators/
COPY annotation/ annotation/
COPY inference/ inference/
COPY pipelines/ pipelines/
COPY trainer/ trainer/
# The Beam the launcher pins: the project's `apache-beam>=...` must not move the SDK image's own.
RUN echo "apache-beam==${BEAM_VERSION}" > /opt/pixmo/constraints.txt \
    && VENV=/usr/local PIP_EDITABLE=0 PIP_EXTRAS="docs,llm,asr,ocr,detect,train,gcp" \
       PIP_CONSTRAINT=/opt/pixmo/constraints.txt bash scripts/setup/python.sh \
    && python -c "import apache_beam, sys; assert apache_beam.__version__ == '${BEAM_VERSION}', apache_beam.__version__"
# The entrypoint stays the SDK image's /opt/apache/beam/boot.
