"""Extractors: pure bytes/str → model functions, one folder per pipeline stage.

    net/        the only code that does I/O: HTTP fetcher, SSRF guard, robots.txt
    sources/    feed documents, feed lists (YAML/OPML), archives
    content/    HTML pages and text dumps → text + metadata, the line cleaner, language
    normalize/  URLs, dates, text (charset, control characters), the Article builder

Submodules are imported explicitly (``from extractors.net.fetcher import Fetcher``) so importing
this package stays cheap and pulls in no heavy dependency.
"""
