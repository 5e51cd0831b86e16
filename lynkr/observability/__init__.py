"""Logs, metrics and health: what the proxy tells its operators."""
