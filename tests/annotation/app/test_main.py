"""The command line (python -m annotation.app): --help everywhere, migrate, create-user, export, clear errors."""

import getpass
import json
from pathlib import Path

import pytest

from annotation.app.__main__ import main, parser


@pytest.mark.parametrize("command", [[], ["serve"], ["create-user"], ["export"], ["migrate"]])
def test_every_command_explains_itself(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parser().parse_args([*command, "--help"])
    assert stopped.value.code == 0 and "usage: python -m annotation.app" in capsys.readouterr().out


def test_bad_arguments_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["serve", "--recording-window", "sixty"])
    assert "expected MIN,MAX seconds" in capsys.readouterr().err
    assert main(["serve", "--data-dir", "unused", "--recording-window", "90,60"]) == 2
    assert "recording window" in capsys.readouterr().err


def test_migrate_create_users_and_export(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["migrate", *data]) == 0 and "up to date" in capsys.readouterr().out
    (tmp_path / "pw").write_text("cli-password\n")
    assert main(["create-user", "carol", "--role", "admin", "--password-file", str(tmp_path / "pw"), *data]) == 0
    assert "created admin carol" in capsys.readouterr().out
    monkeypatch.setattr(getpass, "getpass", lambda prompt: "typed-password")  # what a person types at the prompt
    assert main(["create-user", "dan", *data]) == 0
    assert main(["create-user", "dan", *data]) == 2 and "taken" in capsys.readouterr().err
    monkeypatch.setattr(getpass, "getpass", lambda prompt: "short")
    assert main(["create-user", "eve", *data]) == 2 and "Passwords need" in capsys.readouterr().err
    assert main(["export", "--out", str(tmp_path / "export"), *data]) == 0
    assert json.loads((tmp_path / "export" / "export.json").read_text())["counts"]["points.jsonl"] == 0
