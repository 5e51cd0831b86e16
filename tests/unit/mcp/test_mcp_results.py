"""lynkr.mcp.results: MCP content blocks as the text a model reads."""

from __future__ import annotations

from mcp import types

from lynkr.mcp.results import render


def result(
    *blocks: types.ContentBlock,
    structured: dict[str, object] | None = None,
) -> types.CallToolResult:
    return types.CallToolResult(content=list(blocks), structuredContent=structured)


def test_blocks_in_order_other_kinds_as_one_line_each() -> None:
    text = render(
        result(
            types.TextContent(type="text", text="first"),
            types.ImageContent(type="image", data="aGVsbG8h", mimeType="image/png"),
            types.EmbeddedResource(
                type="resource",
                resource=types.TextResourceContents(
                    uri="file:///a.txt", text="inside", mimeType="text/plain"
                ),
            ),
            types.ResourceLink(type="resource_link", uri="file:///b", name="b"),
        ),
        1000,
    )
    assert text == "first\n[image image/png, 6 bytes]\ninside\n[resource link file:///b: b]"


def test_structured_content_when_no_text_and_empty_results_say_so() -> None:
    assert render(result(structured={"sum": 5}), 1000) == '{"sum": 5}'
    assert (
        render(result(types.TextContent(type="text", text="5"), structured={"sum": 5}), 1000) == "5"
    )
    assert render(result(), 1000) == "(the tool returned no content)"


def test_long_results_are_cut_with_a_note() -> None:
    text = render(result(types.TextContent(type="text", text="x" * 1500)), 1000)
    assert (
        text == "x" * 1000 + "\n[... 500 more characters cut by Lynkr (MCP_MAX_OUTPUT_CHARS=1000)]"
    )
