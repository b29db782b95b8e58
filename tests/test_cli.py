"""The `qloop` command line: exit codes and the generate pass-through."""

from __future__ import annotations

from .qloop_cli import SAMPLE, qloop


def test_generate_defaults_are_the_committed_sample(tmp_path):
    result = qloop("generate", "--out", str(tmp_path))

    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in SAMPLE.iterdir())
    assert (tmp_path / "cc_call_20261001.csv").read_bytes() == (SAMPLE / "cc_call_20261001.csv").read_bytes()


def test_run_refuses_a_missing_inbox_with_a_clear_message(tmp_path):
    result = qloop("run", "--inbox", str(tmp_path / "nope"), "--home", str(tmp_path / "home"))

    assert result.returncode == 2
    assert "is not a folder" in result.stderr


def test_run_with_reference_files_only_completes_without_as_of_time(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "ref_city.csv").write_bytes((SAMPLE / "ref_city.csv").read_bytes())

    result = qloop("run", "--inbox", str(inbox), "--home", str(tmp_path / "home"))

    assert result.returncode == 0, result.stderr
    assert "Files: 1 loaded" in result.stdout
    assert "no daily extract loaded yet" in result.stdout
    assert not list((tmp_path / "home" / "exports").glob("kpi_snapshot_*"))
