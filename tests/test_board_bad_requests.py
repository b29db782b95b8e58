"""Bad input costs a clear 4xx, never a 500: every callback of the board is sent values no
page offers (an object, a list, 2**70, a day that does not exist, a code nobody knows), and
links are edited by hand. The issue store is unchanged afterwards."""

from __future__ import annotations

import json

import pytest
import requests

from .conftest import DEMO_PASSWORD
from .qloop_cli import qloop

ODD_VALUES = [None, {"x": 1}, [1, [2]], 2**70, -1, 1.5, True, "", "2026-99-99", "K99",
              "../../../etc/passwd", "<script>alert(1)</script>", "x" * 5000]


@pytest.fixture(scope="module")
def session(board_url):
    session = requests.Session()
    assert session.post(f"{board_url}/login", data={"username": "demo_qm",
                                                    "password": DEMO_PASSWORD},
                        allow_redirects=False, timeout=10).status_code == 302
    return session


def store_state(home) -> str:
    listed = qloop("issues", "list", "--json", "--home", str(home))
    changes = qloop("changes", "list", "--json", "--home", str(home))
    assert listed.returncode == 0 and changes.returncode == 0
    return listed.stdout + changes.stdout


def concrete(component_id):
    """A component id as the page sends it: a pattern-matching id (a dict, as text in the
    output spec) with its wildcards (MATCH, ALL) given one value."""
    if isinstance(component_id, str) and component_id.startswith("{"):
        component_id = json.loads(component_id)
    if isinstance(component_id, dict):
        return {k: "x" if isinstance(v, list) else v for k, v in component_id.items()}
    return component_id


def id_text(component_id) -> str:
    return (json.dumps(component_id, sort_keys=True, separators=(",", ":"))
            if isinstance(component_id, dict) else component_id)


def forged(dependency: dict, value) -> dict:
    """The request the page would send for this callback, with `value` everywhere."""
    outputs = [{"id": concrete(part.rsplit(".", 1)[0]), "property": part.rsplit(".", 1)[1]}
               for part in dependency["output"].strip(".").split("...")]

    def fill(items):
        return [{"id": concrete(item["id"]), "property": item["property"], "value": value}
                for item in items]

    inputs = fill(dependency["inputs"])
    return {"output": dependency["output"], "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": inputs, "state": fill(dependency.get("state", [])),
            "changedPropIds": [f"{id_text(i['id'])}.{i['property']}" for i in inputs]}


def test_a_request_that_matches_no_callback_is_refused(board_url, session):
    """Outputs sent in another shape than the callback's (a pattern-matching id as text)."""
    dependencies = session.get(f"{board_url}/_dash-dependencies", timeout=10).json()
    grid = next(d for d in dependencies if d["output"].endswith(".columnDefs"))
    request = forged(grid, ["value"])
    request["outputs"] = {"id": grid["output"].rsplit(".", 1)[0], "property": "columnDefs"}
    response = session.post(f"{board_url}/_dash-update-component", json=request, timeout=30)
    assert response.status_code == 400 and "bad request" in response.text
    assert "Traceback" not in response.text


def test_no_callback_answers_500_to_odd_values(board_url, board_home, session):
    before = store_state(board_home)
    dependencies = session.get(f"{board_url}/_dash-dependencies", timeout=10).json()
    assert len(dependencies) > 20
    answers = {}
    for dependency in dependencies:
        if dependency.get("clientside_function"):
            continue
        for value in ODD_VALUES:
            response = session.post(f"{board_url}/_dash-update-component",
                                    json=forged(dependency, value), timeout=60)
            answers[(dependency["output"], repr(value)[:20])] = response.status_code
            assert response.status_code in (200, 204, 400), (dependency["output"], value,
                                                             response.text[:500])
            if response.status_code == 400:
                assert "bad request" in response.text.lower()
                assert "Traceback" not in response.text
    assert 400 in answers.values()  # some values were refused, not only ignored
    assert store_state(board_home) == before


def test_an_object_as_comment_is_refused_and_changes_nothing(board_url, board_home, session):
    issue = json.loads(qloop("issues", "list", "--json", "--home", str(board_home)).stdout)[0]
    dependencies = session.get(f"{board_url}/_dash-dependencies", timeout=10).json()
    comment = next(d for d in dependencies
                   if d["inputs"] == [{"id": "action-comment", "property": "n_clicks"}])
    request = forged(comment, None)
    request["inputs"][0]["value"] = 1
    values = {"comment-text": {"text": "an object"}, "issue-id": issue["id"],
              "issue-version": issue["version"]}
    for state in request["state"]:
        state["value"] = values[state["id"]]
    before = store_state(board_home)

    response = session.post(f"{board_url}/_dash-update-component", json=request, timeout=30)

    assert response.status_code == 400
    assert "comment" in response.text or "text" in response.text
    assert store_state(board_home) == before


@pytest.mark.parametrize("path", ["/issues/1180591620717411303424", "/issues/-3", "/issues/abc",
                                  "/changes/1180591620717411303424", "/kpi/K99",
                                  "/kpi/K02?region=ZZ&period_type=year",
                                  "/?period=2026-99-99&period_type=year&region=ZZ", "/ranking?month=2026-13",
                                  "/post-evaluation?change=1180591620717411303424",
                                  "/issues?state=no_such_state&severity=P9"])
def test_edited_links_answer_a_page_not_an_error(board_url, session, path):
    """A page layout is rendered by a callback of the page container."""
    page = session.get(f"{board_url}{path}", timeout=30)
    assert page.status_code == 200
    dependencies = session.get(f"{board_url}/_dash-dependencies", timeout=10).json()
    router = next(d for d in dependencies if "_pages_content.children" in d["output"])
    url = requests.utils.urlparse(f"{board_url}{path}")
    values = {"pathname": url.path, "search": f"?{url.query}" if url.query else "",
              "hash": "", "href": f"{board_url}{path}"}
    request = {"output": router["output"],
               "outputs": [dict(zip(("id", "property"), part.rsplit(".", 1)))
                           for part in router["output"].strip(".").split("...")],
               "inputs": [{**i, "value": values.get(i["property"])} for i in router["inputs"]],
               "state": [{**s, "value": values.get(s["property"])}
                         for s in router.get("state", [])],
               "changedPropIds": [f"{i['id']}.{i['property']}" for i in router["inputs"]]}
    response = session.post(f"{board_url}/_dash-update-component", json=request, timeout=60)
    assert response.status_code == 200, response.text[:500]
