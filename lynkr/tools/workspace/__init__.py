"""Lynkr's workspace tools (the ``workspace`` ToolBox), jailed in ``WORKSPACE_ROOT``."""

from lynkr.tools.workspace.box import WorkspaceBox, workspace_box

__all__ = ["WorkspaceBox", "workspace_box"]
