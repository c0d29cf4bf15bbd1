# syntax=docker/dockerfile:1
# Dataflow worker image for the GPU steps (vLLM, faster-whisper on CUDA, YOLO on CUDA) and, because a job has one
# image, every CPU step too (Docs renders beside its LLM). Beam custom-container mode, Runner v2:
#   make images    ->  pixmo-worker-gpu:VERSION;  then  --sdk_container_image IMAGE --experiments use_runner_v2
# The CPU image's recipe (the same set-up scripts `make setup` runs) on the same Beam SDK image, whose boot entrypoint
# Dataflow starts, plus:
#   - vLLM (the `vllm` extra) and the torch/torchvision it pins, instead of the CPU image's;
#   - cuBLAS for CUDA 12, which CTranslate2 (faster-whisper) loads by name (libcublas.so.12): torch brings CUDA 13.
# The NVIDIA driver is not in the image: Dataflow installs it on the worker (install-nvidia-driver:latest; torch's
# CUDA 13 needs a 580+ driver). Why not an Ubuntu CUDA base: its Chromium is a snap, which cannot run in a
# container, so system.sh would differ from CI's; CUDA's user-space libraries all come from NVIDIA's wheels instead.
ARG BEAM_VERSION=2.77.0
FROM apache/beam_python3.11_sdk:${BEAM_VERSION}
ARG BEAM_VERSION
# vLLM pins torch exactly: these are the pins of pyproject.toml's vllm==0.32.0.
ARG TORCH_PACKAGES="torch==2.13.0 torchvision==0.28.0"

ENV DEBIAN_FRONTEND=noninteractive \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIXMO_MERMAID_JS=/opt/pixmo/src/node_modules/mermaid/dist/mermaid.min.js
WORKDIR /opt/pixmo/src

COPY scripts/setup/ scripts/setup/
RUN bash scripts/setup/system.sh && rm -rf /var/lib/apt/lists/*

COPY package.json package-lock.json ./
RUN bash scripts/setup/npm.sh && npm cache clean --force

# In a folder of its own: NVIDIA's CUDA 12 wheels share folder names with torch's CUDA 13 ones.
RUN python -m pip install --target /opt/cuda12 "nvidia-cublas-cu12==12.9.3.13"
# cuBLAS 12 for CTranslate2; cuDNN 9 (same soname in both CUDA lines) is torch's, so one copy is ever loaded.
ENV LD_LIBRARY_PATH=/opt/cuda12/nvidia/cublas/lib:/usr/local/lib/python3.11/site-packages/nvidia/cudnn/lib

COPY pyproject.toml setup.py README.md ./
COPY schemas/ schemas/
COPY media/ media/
COPY formatting/ formatting/
COPY generators/ generators/
COPY annotation/ annotation/
COPY inference/ inference/
COPY pipelines/ pipelines/
COPY trainer/ trainer/
RUN echo "apache-beam==${BEAM_VERSION}" > /opt/pixmo/constraints.txt \
    && VENV=/usr/local PIP_EDITABLE=0 PIP_EXTRAS="docs,llm,asr,ocr,detect,train,gcp,vllm" \
       TORCH_PACKAGES="${TORCH_PACKAGES}" PIP_CONSTRAINT=/opt/pixmo/constraints.txt bash scripts/setup/python.sh \
    && python -c "import apache_beam, sys; assert apache_beam.__version__ == '${BEAM_VERSION}', apache_beam.__version__"
# Every GPU path on tiny models it makes itself: docker run --gpus all --entrypoint python IMAGE scripts/gpu_check.py
COPY scripts/gpu_check.py scripts/gpu_check.py
# The entrypoint stays the SDK image's /opt/apache/beam/boot.
