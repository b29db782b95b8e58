"""Shared fixtures: one `qloop run` of data/sample per test session (it takes ~40 s)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .qloop_cli import SAMPLE, qloop_run


@pytest.fixture(scope="session")
def sample_home(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """A home folder after `qloop run` on the committed sample (warehouse, issues, exports).
    Tests that change it must leave its KPI data as they found it."""
    home = tmp_path_factory.mktemp("sample-home")
    result = qloop_run(SAMPLE, home)
    assert result.returncode == 0, result.stdout + result.stderr
    return home, result
