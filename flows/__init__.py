"""Prefect flows: hourly ingest, archive backfill and reprocessing."""
