"""A fingerprint of the dbt project's SQL and configuration."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .settings import DBT_PROJECT_DIR

PROJECT_PARTS = ("models", "macros", "seeds", "dbt_project.yml")


def project_fingerprint(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """sha256 over the paths and contents of every file of the project's SQL and config."""
    digest = hashlib.sha256()
    for part in PROJECT_PARTS:
        root = project_dir / part
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()
