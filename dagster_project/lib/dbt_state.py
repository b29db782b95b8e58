"""When the incremental dbt models must be rebuilt in full.

The daily extracts' staging and entity models are incremental by delivery (dbt/macros/
incremental): a run re-does only what was landed since. Their rows are only as right as
the SQL that built them, so a run rebuilds them in full when

- it is asked to (`qloop run --full-refresh`, or the run tag FULL_REFRESH_TAG = "true"
  from the Dagster UI), or
- the dbt project (models, macros, seeds, dbt_project.yml) is not the one that built the
  warehouse: a changed model must not leave older rows built by its previous version, or
- the previous build did not complete (failed, or killed): an incremental build tests
  only the rows it wrote (the staging models' unique_in_rebuilt_files, the entity models'
  unique_in_touched_keys), so rows written by a build whose tests did not all pass are
  rebuilt and tested again.

The fingerprint of the project that built the warehouse is kept beside dbt's artifacts of
the home, written only after a successful build.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .settings import DBT_PROJECT_DIR, Settings

FULL_REFRESH_TAG = "qloop/full_refresh"
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


def _built_from(settings: Settings) -> Path:
    return settings.dbt_target / "qloop_built_from.sha256"


def _in_progress(settings: Settings) -> Path:
    return settings.dbt_target / "qloop_build_in_progress"


def full_refresh_reason(settings: Settings, tags: dict[str, str]) -> str | None:
    """Why this run rebuilds the incremental models in full, or None (incremental)."""
    if tags.get(FULL_REFRESH_TAG, "").lower() == "true":
        return "asked for (full refresh)"
    if _in_progress(settings).exists():
        return "the previous build did not complete"
    path = _built_from(settings)
    if not settings.warehouse.exists() or not path.exists():
        return None  # a first build is a full build anyway
    if path.read_text().strip() != project_fingerprint():
        return "the dbt project changed since the warehouse was built"
    return None


# A full build is a few big models (staging parses every delivery, the entities
# de-duplicate tens of millions of keys), each using both cores inside DuckDB while it
# computes, but only about one and a half while it writes its table. Two at a time fill
# the cores; four only compete for them and the memory budget. The month's dbt step:
# 96.7-112.5 s with four threads; 71.6-73.1 s with two against 74.5-89.7 s with one
# (interleaved, same peak memory, docs/performance.md). An incremental build is ~190
# small nodes whose dbt overhead (compile, events) overlaps well: four threads
# (profiles.yml).
FULL_BUILD_THREADS = 2
# Unit tests run in CI (`make test`), not in every pipeline run: they test the SQL.
BUILD = ("build", "--exclude-resource-type", "unit_test")


def build_args(settings: Settings, tags: dict[str, str]) -> tuple[list[str], str | None]:
    """`dbt build` arguments for the pipeline's main build, and why it is full (or None)."""
    args = list(BUILD)
    reason = full_refresh_reason(settings, tags)
    if reason:
        args.append("--full-refresh")
    if reason or not _built_from(settings).exists():  # a rebuild, or the first build
        args += ["--threads", str(FULL_BUILD_THREADS)]
    return args, reason


def start_build(settings: Settings) -> None:
    """Mark a build as running; record_build clears the mark when it has completed."""
    path = _in_progress(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def record_build(settings: Settings) -> None:
    path = _built_from(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(project_fingerprint() + "\n")
    _in_progress(settings).unlink(missing_ok=True)
