"""The helpers of tests/live.py: a test that needs a missing system tool says what to install."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live import require_tool

pytestmark = pytest.mark.backend_independent  # no database


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_a_missing_tool_fails_the_test_naming_the_package_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception) as failed:
        require_tool("nginx", "nginx-light", "nginx-too", str(tmp_path / "sbin/nginx"))
    assert str(failed.value) == "nginx not found: apt-get install nginx-light"


def test_a_tool_on_path_is_found_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    on_path = executable(tmp_path / "bin/chromium")
    executable(tmp_path / "elsewhere/chromium")
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert require_tool("chromium", "chromium", str(tmp_path / "elsewhere/chromium")) == str(
        on_path
    )


def test_another_program_name_is_tried(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = executable(tmp_path / "chromium-browser")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert require_tool("chromium", "chromium", "chromium-browser") == str(other)


def test_a_glob_finds_the_highest_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for version in ["9.6", "16", "15"]:
        executable(tmp_path / f"postgresql/{version}/bin/initdb")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    found = require_tool("initdb", "postgresql", str(tmp_path / "postgresql/*/bin/initdb"))
    assert found == str(tmp_path / "postgresql/16/bin/initdb")
