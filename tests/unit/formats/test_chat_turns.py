"""Canonical messages → flat chat turns (what OpenAI Chat and Ollama are rendered from)."""

import pytest

from lynkr.formats.chat_turns import (
    AssistantTurn,
    MidSystem,
    SystemTurn,
    ToolTurn,
    Turn,
    UserTurn,
    image_data_url,
    to_turns,
)
from lynkr.model import (
    ImageBlock,
    Message,
    OpaqueBlock,
    Request,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)

PNG = ImageBlock({"type": "base64", "media_type": "image/png", "data": "AAAA"})
URL = ImageBlock({"type": "url", "url": "https://x.test/i.jpg"})
READ = ToolUseBlock("t1", "Read", {"path": "/a"})
SHOT = ToolUseBlock("t2", "Shot", {})


def request(*messages: Message, system: tuple[TextBlock, ...] = ()) -> Request:
    return Request("m", messages, 100, system=system)


CONVERSATION = request(
    Message("user", (TextBlock("hi"),)),
    Message("system", (TextBlock("env: a"), TextBlock("env: b"))),
    Message("assistant", (ThinkingBlock("t", "s"), TextBlock("Let me "), TextBlock("look."),
                          READ, SHOT)),
    Message("user", (
        TextBlock("also this"),
        ToolResultBlock("t1", (TextBlock("line 1"), TextBlock("line 2"))),
        ToolResultBlock("t2", (TextBlock("cannot"), PNG), is_error=True),
        TextBlock(""),
        URL,
    )),
    system=(TextBlock("You are terse."), TextBlock(""), TextBlock("Be kind.")),
)
ASSISTANT = AssistantTurn("Let me look.", (READ, SHOT), (ThinkingBlock("t", "s"),))
TOOLS = [ToolTurn("t1", "Read", "line 1\nline 2"),
         ToolTurn("t2", "Shot", "[tool error] cannot\n[image]", is_error=True)]
TAIL = UserTurn((TextBlock("also this"), PNG, URL))


@pytest.mark.parametrize(
    ("mode", "turns"),
    [
        ("in_place", [
            SystemTurn("You are terse.\n\nBe kind."),
            UserTurn((TextBlock("hi"),)),
            SystemTurn("env: a\nenv: b"),
            ASSISTANT, *TOOLS, TAIL,
        ]),
        ("as_user", [
            SystemTurn("You are terse.\n\nBe kind."),
            UserTurn((TextBlock("hi"),
                      TextBlock("<system-reminder>\nenv: a\nenv: b\n</system-reminder>"))),
            ASSISTANT, *TOOLS, TAIL,
        ]),
        ("merge", [
            SystemTurn("You are terse.\n\nBe kind.\n\nenv: a\nenv: b"),
            UserTurn((TextBlock("hi"),)),
            ASSISTANT, *TOOLS, TAIL,
        ]),
    ],
)
def test_to_turns(mode: MidSystem, turns: list[Turn]) -> None:
    assert to_turns(CONVERSATION, mode) == turns


def test_merge_without_leading_system() -> None:
    req = request(Message("system", (TextBlock("only mid"),)), Message("user", (TextBlock("q"),)))
    assert to_turns(req, "merge") == [SystemTurn("only mid"), UserTurn((TextBlock("q"),))]


def test_as_user_merges_consecutive_user_turns() -> None:
    req = request(Message("user", (TextBlock("a"),)), Message("user", (TextBlock("b"),)))
    assert to_turns(req, "as_user") == [UserTurn((TextBlock("a"), TextBlock("b")))]
    assert to_turns(req, "in_place") == [UserTurn((TextBlock("a"),)), UserTurn((TextBlock("b"),))]


def test_user_turn_of_only_results_adds_no_user_turn() -> None:
    req = request(Message("assistant", (READ,)),
                  Message("user", (ToolResultBlock("t1", (TextBlock("ok"),)),)))
    assert to_turns(req) == [AssistantTurn("", (READ,)), ToolTurn("t1", "Read", "ok")]


def test_result_for_unknown_call_has_no_name() -> None:
    req = request(Message("user", (ToolResultBlock("gone"),)))
    assert to_turns(req) == [ToolTurn("gone", "", "")]


@pytest.mark.parametrize(
    ("block", "text"),
    [
        (OpaqueBlock("document", {"type": "document",
                                  "source": {"type": "text", "data": "doc body"}}), "doc body"),
        (OpaqueBlock("document", {"type": "document", "title": "Spec",
                                  "source": {"type": "base64", "media_type": "application/pdf"}}),
         "[document: Spec]"),
        (OpaqueBlock("document", {"type": "document",
                                  "source": {"type": "base64", "media_type": "application/pdf"}}),
         "[document: application/pdf]"),
        (OpaqueBlock("container_upload", {"type": "container_upload"}), "[container_upload]"),
    ],
)
def test_opaque_user_blocks_become_text(block: OpaqueBlock, text: str) -> None:
    assert to_turns(request(Message("user", (block,)))) == [UserTurn((TextBlock(text),))]


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ((), ""),
        ((TextBlock("a"), TextBlock("b")), "a\nb"),
        ((OpaqueBlock("tool_reference", {"type": "tool_reference", "tool_name": "Grep"}),),
         "[tool: Grep]"),
        ((OpaqueBlock("search_result", {"type": "search_result", "title": "T", "content": [
            {"type": "text", "text": "x"}, {"type": "text", "text": "y"}]}),), "T\nx\ny"),
        ((PNG, OpaqueBlock("document", {"type": "document"})), "[image]\n[document]"),
    ],
)
def test_tool_result_text(content: tuple, text: str) -> None:
    assert ToolResultBlock("t", content).text() == text


@pytest.mark.parametrize(
    ("image", "url"),
    [
        (PNG, "data:image/png;base64,AAAA"),
        (ImageBlock({"type": "base64", "media_type": "image/webp", "data": "QQ=="}),
         "data:image/webp;base64,QQ=="),
        (URL, "https://x.test/i.jpg"),
    ],
)
def test_image_data_url(image: ImageBlock, url: str) -> None:
    assert image_data_url(image) == url


def test_user_turn_helpers() -> None:
    turn = UserTurn((TextBlock("a"), PNG, TextBlock("b")))
    assert turn.text() == "a\nb"
    assert turn.images == (PNG,)


@pytest.mark.parametrize("mode", ["in_place", "as_user"])
def test_system_message_between_a_call_and_its_result_waits_for_the_result(
        mode: MidSystem) -> None:
    turns = to_turns(request(
        Message("user", (TextBlock("go"),)),
        Message("assistant", (READ,)),
        Message("system", (TextBlock("reminder"),)),
        Message("user", (ToolResultBlock("t1", (TextBlock("A"),)), TextBlock("next"))),
    ), mode)
    kinds = [type(t).__name__ for t in turns]
    assert kinds[:3] == ["UserTurn", "AssistantTurn", "ToolTurn"]
    assert "reminder" in str(turns[3:])
    if mode == "as_user":
        assert turns[3] == UserTurn((TextBlock("<system-reminder>\nreminder\n</system-reminder>"),
                                     TextBlock("next")))
    else:
        assert turns[3:] == [SystemTurn("reminder"), UserTurn((TextBlock("next"),))]


def test_deferred_system_message_at_the_end_is_still_sent() -> None:
    turns = to_turns(request(Message("user", (TextBlock("go"),)), Message("assistant", (READ,)),
                             Message("system", (TextBlock("late"),))))
    assert turns[-1] == SystemTurn("late")
