"""Outlet identity: one outlet, one name, and the registrable domain behind every URL.

``registrable_domain`` uses the Public Suffix List snapshot bundled with ``tldextract`` (never a
download: the list URLs are empty and there is no cache directory), including the list's private
section, so ``a.blogspot.com`` and ``b.blogspot.com`` are two outlets. An address without a
registrable part (an IP literal, ``localhost``) is its own domain; under a top-level label the
list does not know, the last two labels are the domain.

``resolve_outlet`` is the precedence an analyst can predict:
feed list ``outlet:``/``name`` → the archive record's own outlet → the page's site name →
the registrable domain.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

__all__ = ["registrable_domain", "resolve_outlet", "title_key"]

_HOSTNAME = re.compile(r"[a-z0-9_](?:[a-z0-9_\-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_\-]{0,62}))*")


@lru_cache(maxsize=1)
def _extractor() -> Any:
    """The suffix-list reader, built on first use: importing tldextract (and the requests stack it
    loads) is ~0.1 s that a process which never names an outlet from a URL does not pay."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def _host(url_or_host: str) -> str | None:
    text = url_or_host.strip()
    if not text:
        return None
    if "://" in text:
        try:
            host = urlsplit(text).hostname
        except ValueError:
            return None
    else:
        host = text.split("/", 1)[0].rsplit("@", 1)[-1]
        if host.startswith("[") and "]" in host:
            host = host[1 : host.index("]")]
        elif host.count(":") == 1:
            host = host.split(":", 1)[0]
    host = (host or "").strip(".").lower()
    if not host:
        return None
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        return host if _HOSTNAME.fullmatch(host) else None


@lru_cache(maxsize=65536)
def registrable_domain(url_or_host: str | None) -> str | None:
    """``https://m.bbc.co.uk/x`` → ``bbc.co.uk``; an IP or single-label host is returned as is."""
    if not url_or_host:
        return None
    host = _host(url_or_host)
    if host is None:
        return None
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    parts = _extractor().extract_str(host)
    if parts.domain and parts.suffix:
        return f"{parts.domain}.{parts.suffix}"
    labels = host.split(".")
    # a top-level label the list does not know (.example, .test, an intranet name) is read as a
    # one-label suffix, so www./m. hosts of the same site still share a domain
    return ".".join(labels[-2:]) if len(labels) >= 2 else host


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split())
    return text or None


def resolve_outlet(
    *,
    feed_outlet: str | None = None,
    record_outlet: str | None = None,
    site_name: str | None = None,
    domain: str | None = None,
) -> str:
    """The one name an outlet is counted under (see the module docstring for the order)."""
    for candidate in (feed_outlet, record_outlet, site_name, domain):
        name = _clean(candidate)
        if name:
            return name
    return "unknown"


_PUNCT = re.compile(r"[^\w\s]+")


def title_key(title: str | None, *, site_name: str | None = None) -> str | None:
    """A headline reduced to what two copies of it share: case, accents of punctuation, spacing
    and a trailing ``| Site`` / ``- Site`` suffix naming the site do not count. ``None`` when
    fewer than three words remain (``Live updates`` is not an identity)."""
    if not title:
        return None
    text = unicodedata.normalize("NFKC", title).casefold()
    if site_name:
        site = unicodedata.normalize("NFKC", site_name).casefold().strip()
        for sep in (" | ", " - ", " – ", " — ", " :: "):
            head, found, tail = text.rpartition(sep)
            if found and tail.strip() == site and head.strip():
                text = head
                break
    words = _PUNCT.sub(" ", text).split()
    if len(words) < 3:
        return None
    return " ".join(words)
