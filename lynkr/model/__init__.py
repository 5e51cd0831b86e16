"""The canonical model: frozen attrs values shaped like Anthropic Messages.

Anthropic Messages is the canonical shape because Claude Code is the main client and its format
is the richest. Large opaque parts (tool schemas, tool inputs, image sources) stay the plain
parsed-once JSON values they arrived as; nothing here re-structures them per request.
"""

from lynkr.model.content import (
    Block,
    ImageBlock,
    OpaqueBlock,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from lynkr.model.errors import (
    BadRequest,
    LynkrError,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from lynkr.model.events import (
    BlockStart,
    BlockStop,
    Event,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    Ping,
    SignatureDelta,
    StreamError,
    TextDelta,
    ThinkingDelta,
    Usage,
)
from lynkr.model.request import Message, Request, Tool
from lynkr.model.response import Response

__all__ = [
    "BadRequest",
    "Block",
    "BlockStart",
    "BlockStop",
    "Event",
    "ImageBlock",
    "InputJsonDelta",
    "LynkrError",
    "Message",
    "MessageDelta",
    "MessageStart",
    "MessageStop",
    "NotFound",
    "OpaqueBlock",
    "Overloaded",
    "PayloadTooLarge",
    "Ping",
    "RateLimited",
    "RedactedThinkingBlock",
    "Request",
    "Response",
    "SignatureDelta",
    "StreamError",
    "TextBlock",
    "TextDelta",
    "ThinkingBlock",
    "ThinkingDelta",
    "Tool",
    "ToolResultBlock",
    "ToolUseBlock",
    "UpstreamError",
    "UpstreamTimeout",
    "UpstreamUnreachable",
    "Usage",
]
