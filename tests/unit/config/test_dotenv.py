"""The .env reader: KEY=VALUE, export prefixes, quotes and comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from lynkr.config.dotenv import read_dotenv


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param("KEY=value", {"KEY": "value"}, id="plain"),
        pytest.param("  KEY = value  ", {"KEY": "value"}, id="spaces-trimmed"),
        pytest.param("export KEY=value", {"KEY": "value"}, id="export-prefix"),
        pytest.param('KEY="quoted value"', {"KEY": "quoted value"}, id="double-quotes"),
        pytest.param("KEY='single quoted'", {"KEY": "single quoted"}, id="single-quotes"),
        pytest.param('KEY="has # hash"', {"KEY": "has # hash"}, id="hash-inside-quotes"),
        pytest.param('KEY="sk-abc"  # my key', {"KEY": "sk-abc"}, id="quoted-then-comment"),
        pytest.param("KEY='a b' # note", {"KEY": "a b"}, id="single-quoted-then-comment"),
        pytest.param("KEY=value # a comment", {"KEY": "value"}, id="trailing-comment"),
        pytest.param("KEY=pa#ss", {"KEY": "pa#ss"}, id="hash-without-space-kept"),
        pytest.param("KEY=a=b=c", {"KEY": "a=b=c"}, id="equals-in-value"),
        pytest.param("KEY=", {"KEY": ""}, id="empty"),
        pytest.param('KEY=""', {"KEY": ""}, id="empty-quotes"),
        pytest.param('KEY="', {"KEY": '"'}, id="lone-quote"),
        pytest.param("# KEY=value", {}, id="comment-line"),
        pytest.param("   # indented comment", {}, id="indented-comment"),
        pytest.param("not a pair", {}, id="no-equals"),
        pytest.param("", {}, id="blank"),
    ],
)
def test_line(tmp_path: Path, line: str, expected: dict[str, str]) -> None:
    path = tmp_path / ".env"
    path.write_text(line + "\n", encoding="utf-8")
    assert read_dotenv(path) == expected


def test_whole_file(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(
        "# Lynkr\n"
        "MODEL_PROVIDER=openai\n"
        "\n"
        'export OPENAI_API_KEY="sk-123"   # secret\n'
        "OPENAI_MODEL=gpt-4o-mini\n"
        "OPENAI_MODEL=gpt-4o\n",
        encoding="utf-8",
    )
    assert read_dotenv(path) == {
        "MODEL_PROVIDER": "openai",
        "OPENAI_API_KEY": "sk-123",
        "OPENAI_MODEL": "gpt-4o",
    }


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert read_dotenv(tmp_path / "absent") == {}
    assert read_dotenv(tmp_path) == {}
