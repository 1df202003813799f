"""Network layer: the only code in the product that does I/O (HTTP fetcher, SSRF guard, robots.txt)."""
