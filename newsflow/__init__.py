"""newsflow: news event-stream ingestion (CLI entry point lives in ``newsflow.cli``)."""

__version__ = "0.1.0"
