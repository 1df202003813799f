"""Content extraction: HTML pages and text dumps to text + metadata, the line cleaner, language."""
