"""Normalisation: URLs, dates, text (charset, control characters) and the Article builder."""
