"""Shared test helpers: one HTTP server, one CLI runner, record factories, the evaluation scorer."""
