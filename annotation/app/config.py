"""What the app needs to know to run: where its data lives, limits, and the LLM that drafts AMA answers."""

import os
from dataclasses import dataclass, field

from inference.llm import LLMConfig


@dataclass(frozen=True)
class AppConfig:
    data_dir: str  # images, audio, exports and (by default) the SQLite database live here
    db_url: str = ""  # default: sqlite:///DATA_DIR/annotation.db; PostgreSQL: postgresql+psycopg://user:pw@host/db
    recording_window_s: tuple[float, float] = (60.0, 90.0)  # PixMo-Cap: 60-90 s spoken descriptions
    recording_tolerance_s: float = 0.5  # container timestamps round; the browser enforces the window exactly
    max_image_bytes: int = 32 * 1024 * 1024
    max_audio_bytes: int = 32 * 1024 * 1024
    max_request_bytes: int = 512 * 1024 * 1024  # one admin upload of many images (annotators' requests are small)
    max_text_chars: int = 2000  # a label, question, reason or answer
    session_days: int = 14
    # Failed logins (security.LoginLimiter): per user name from one client address, and per client address.
    login_failures_per_user_client: int = 10
    login_failures_per_client: int = 30
    login_window_s: float = 300.0
    secure_cookies: bool = False  # set True behind HTTPS
    llm: LLMConfig = field(default_factory=lambda: LLMConfig(batch_size=1))

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{os.path.join(os.path.abspath(self.data_dir), 'annotation.db')}"

    def validate(self) -> list[str]:
        low, high = self.recording_window_s
        problems = []
        if not 0 < low <= high:
            problems.append(f"the recording window must be 0 < min <= max, got {low}-{high}")
        limits = (self.max_image_bytes, self.max_audio_bytes, self.max_request_bytes, self.max_text_chars)
        limits += (self.session_days, self.login_failures_per_user_client, self.login_failures_per_client)
        limits += (self.login_window_s,)
        if min(limits) < 1:
            problems.append("size, text and session limits must be positive")
        return problems + self.llm.validate()
