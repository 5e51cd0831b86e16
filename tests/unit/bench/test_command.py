"""``lynkr bench`` as a command: its tables, and clear errors instead of tracebacks."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from lynkr.bench.command import main


def test_tables_for_one_pipeline_on_one_bundled_session(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    out = io.StringIO()
    bundled = Path(__file__).resolve().parents[3] / "lynkr/bench/sessions"
    assert main(["--pipeline", "default", "--sessions",
                 str(bundled / "opencode-lowercase.json.gz")], out=out) == 0
    text = out.getvalue()
    assert "| default " in text and "| Anthropic |" in text
    assert "Tools removed that the session later calls: default 0" in text
    assert "2/2" in capsys.readouterr().err  # the progress bar


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--pipeline", "no-such-pipeline"], "no pipeline file or named pipeline"),
     (["--sessions", "{bad}"], "cannot read the sessions")],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     argv: list[str], message: str) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    argv = [str(bad) if a == "{bad}" else a for a in argv]
    assert main(argv, out=io.StringIO()) == 2
    assert message in capsys.readouterr().err
