"""Input parsing: feed documents, feed lists (YAML/OPML) and archives (text, HTML, JSONL, WARC)."""
