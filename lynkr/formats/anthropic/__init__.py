"""The Anthropic Messages dialect: the canonical one, so conversion here is mostly naming."""
