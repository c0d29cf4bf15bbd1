"""AppConfig: defaults, the database URL and every problem reported before the app starts."""

import os

from annotation.app.config import AppConfig
from inference.llm import LLMConfig


def test_defaults_put_sqlite_in_the_data_folder() -> None:
    config = AppConfig(data_dir="data")
    assert config.database_url == f"sqlite:///{os.path.abspath('data')}/annotation.db"
    assert config.recording_window_s == (60.0, 90.0) and config.validate() == []
    assert AppConfig(data_dir="d", db_url="postgresql+psycopg://u@h/db").database_url == "postgresql+psycopg://u@h/db"


def test_bad_settings_are_all_reported() -> None:
    config = AppConfig(
        data_dir="d", recording_window_s=(90, 60), max_audio_bytes=0, llm=LLMConfig(backend="openai", batch_size=1)
    )
    problems = " | ".join(config.validate())
    assert "recording window" in problems and "limits must be positive" in problems and "--llm-url" in problems
