"""A department's closure list (销项清单) as a download, generated on request:
`/download/closure-list/<CODE>.xlsx` (the workbook) and `.csv`.

The rows are the weekly list's (loop.closure_list_issues through the Workflow service,
warehouse_io.closure_row), with region names from the board's published copy; the files
are written by closure_list.write_closure_workbook / write_closure_csv into a temporary
folder and sent from memory. The login guard (auth.require_login, a before_request on the
same Flask server) covers this route like every other non-public path.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import flask

from dagster_project.lib.remediation.closure_list import (
    closure_list_file_stem, write_closure_csv, write_closure_workbook,
)
from dagster_project.lib.remediation.loop import closure_list_issues
from dagster_project.lib.remediation.reference import departments
from dagster_project.lib.remediation.warehouse_io import closure_row

from .context import board
from .data import NoBoardData
from .data.issues import region_names
from .data.satisfaction import closure_satisfaction

MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def closure_list_download(code: str, ext: str):
    if ext not in MIMETYPES:
        flask.abort(404)
    department = departments().get(code)
    if department is None:
        flask.abort(404)
    workflow = board().workflow
    try:
        names = region_names()
        satisfaction = closure_satisfaction()
    except NoBoardData:
        # no published data yet: the list shows region codes and no satisfaction cells
        names, satisfaction = {}, {}
    rows = [closure_row(v, names, satisfaction) for v in closure_list_issues(workflow, code)]
    now = workflow.now()
    file_name = f"{closure_list_file_stem(code, now.date())}.{ext}"
    with tempfile.TemporaryDirectory(prefix="qloop-closure-") as folder:
        path = Path(folder) / file_name
        if ext == "xlsx":
            write_closure_workbook(rows, path, department_code=code,
                                   department_name_zh=department.name_zh,
                                   department_name_en=department.name_en, generated_at=now)
        else:
            write_closure_csv(rows, path)
        content = path.read_bytes()
    response = flask.send_file(io.BytesIO(content), mimetype=MIMETYPES[ext], as_attachment=True,
                               download_name=file_name, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_closure_download(server: flask.Flask) -> None:
    server.add_url_rule("/download/closure-list/<code>.<ext>", "closure_list_download",
                        closure_list_download)
