"""Validated records and settings: the bottom layer every other package may import."""
