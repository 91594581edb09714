"""The bot: settings, Finnish text tools, the store, retrieval and answering."""

__version__ = "0.1.0"
