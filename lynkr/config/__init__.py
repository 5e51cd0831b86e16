"""Settings from the environment and ``.env``, under the original Lynkr's variable names."""

from lynkr.config.settings import ProviderSettings, Settings, SettingsError, load_settings

__all__ = ["ProviderSettings", "Settings", "SettingsError", "load_settings"]
