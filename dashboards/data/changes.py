"""Data for the change pages: the register itself comes from the ChangeRegister service (the
one writer, like issues from the Workflow service), never from SQL; the region names come
from the published copy; the post-evaluation has its own page (issue 7 item 3)."""

from __future__ import annotations

from dagster_project.lib.remediation.changes import ChangeRegister
from dagster_project.lib.remediation.reference import kpi_catalog

from ..context import board
from . import NoBoardData
from .issues import PROVINCE, region_names

# The post-evaluation page of a change (built separately): one place to change the link.
POST_EVALUATION_HREF = "/post-evaluation?change={change_id}"


def register() -> ChangeRegister:
    return ChangeRegister(board().workflow)


def regions() -> dict[str, tuple[str, str]]:
    """Region code -> (Chinese, English): the published cities and JS; only JS before the
    first pipeline run (a change may still be registered for the province)."""
    try:
        return region_names()
    except NoBoardData:
        return {PROVINCE[0]: PROVINCE[1:]}


def kpi_codes() -> list[str]:
    return list(kpi_catalog())


def post_evaluation_href(change_id: int) -> str:
    return POST_EVALUATION_HREF.format(change_id=change_id)
