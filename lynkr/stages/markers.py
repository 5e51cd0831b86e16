"""The texts Lynkr's stages write into a conversation and other stages must recognise.

Shared here, not by one stage importing another: a stage reads another's marker, never its code.
"""

from __future__ import annotations

# dedupe's stand-in for a tool result an earlier one already holds (compress_history keeps the
# first copy a later marker points to)
DEDUPE_MARKER_PREFIX = "[same output as the earlier result of "
