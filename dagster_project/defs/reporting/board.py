"""The board's read-only copy of the marts, published at the end of each run."""

import dagster as dg

from ...lib.progress import PROGRESS
from ...lib.publish import BOARD_TABLES, board_path, publish_board_copy
from ..resources import QualityLoopPaths


# Every table copied is an asset (landing tables, qa_ tables, dbt models and seeds).
@dg.asset(deps=[*BOARD_TABLES, "rem_issues"],
          group_name="reporting", kinds={"duckdb"})
def board_copy(paths: QualityLoopPaths) -> dg.MaterializeResult:
    """`<home>/board/board.duckdb`: the marts the board reads, swapped in atomically."""
    settings = paths.settings
    counts = publish_board_copy(settings.warehouse, board_path(settings.home))
    PROGRESS.info(f"board published: {board_path(settings.home)}")
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(
        str(board_path(settings.home))), **{f"rows_{t}": n for t, n in counts.items()}})
