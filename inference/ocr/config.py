"""OCRConfig: which models, how confident a line must be, how big an image the models see, how many threads."""

from dataclasses import dataclass


@dataclass(frozen=True)
class OCRConfig:
    min_score: float = 0.5  # recognised lines scoring below it are dropped
    max_side: int = 1600  # larger images are scaled down first (boxes are mapped back to the original size)
    # onnxruntime threads per session (0 = its default, all cores). Use 1 when each core runs its own worker.
    threads: int = 0
    # A folder holding other PP-OCR ONNX models (det*.onnx, rec*.onnx, optional cls*.onnx); None = the models
    # inside the rapidocr wheel. rapidocr would download its defaults when given no path: we always give one.
    model_dir: str | None = None
    use_angle_classifier: bool = True  # rotate upside-down lines before recognising them

    def validate(self) -> list[str]:
        """Every problem with this config, in words."""
        problems = []
        if not 0 <= self.min_score <= 1:
            problems.append(f"OCR min score must be in [0, 1], got {self.min_score}")
        if self.max_side < 32:
            problems.append(f"OCR max side must be >= 32 px, got {self.max_side}")
        if self.threads < 0:
            problems.append(f"OCR threads must be >= 0, got {self.threads}")
        return problems
