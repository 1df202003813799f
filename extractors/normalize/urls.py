"""URL canonicalization: one spelling per story, so one ``article_id`` per story.

Why: the same article reaches us as ``HTTP://Example.com:80/a?utm_source=rss#top`` from a feed,
``https://example.com/a`` from a page's ``rel=canonical`` and ``/a`` relative to some base. Identity
must not depend on those spellings. The rules, in order:

1. Strip leading/trailing whitespace and remove control characters anywhere (browsers do the same
   with tabs and newlines pasted into URLs).
2. Resolve against ``base`` when given (RFC 3986 resolution via ``urljoin``).
3. Keep only ``http``/``https``; anything else (``javascript:``, ``data:``, ``mailto:``, ``ftp:``,
   relative leftovers, unparsable input) gives ``None``.
4. Lowercase scheme and host; IDNA-encode a unicode host (UTS 46); drop a trailing dot on the
   host; drop userinfo (credentials never belong in an identity); drop the default port.
5. Path: remove ``.``/``..`` segments, normalise percent-encoding (decode escapes of unreserved
   characters, uppercase the hex of the others, encode anything not allowed raw such as spaces
   and non-ASCII as UTF-8). An empty path becomes ``/``.
6. Query: drop empty pairs and the tracking parameters in ``TRACKING_PARAMS`` / with a prefix in
   ``TRACKING_PREFIXES`` (names compared case-insensitively); normalise percent-encoding of each
   name and value; sort the remaining pairs by name (stable, so repeated names keep their order).
   An empty query (including a bare trailing ``?``) is dropped.
7. Drop the fragment: it never selects a different document on a news site.

Sites: ``site_key`` is the host without a leading ``www.``, ``m.`` or ``amp.`` label.
``same_site`` compares *registrable parts*, approximated without a public-suffix list as the last
two labels of the host, or the last three when the host ends in a two-letter country code preceded
by a generic second-level label such as ``co``/``com``/``org``/``net``/``ac``/``gov``/``edu``
(``news.bbc.co.uk`` → ``bbc.co.uk``). This approximation treats subdomains of shared hosting
platforms (``a.blogspot.com`` and ``b.blogspot.com``) as one site; it is only used to decide
whether a page's ``rel=canonical`` may replace the URL we fetched, where that error is harmless.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from urllib.parse import unquote, urljoin, urlsplit

import idna

__all__ = [
    "PSEUDO_URL_PREFIX",
    "TRACKING_PARAMS",
    "TRACKING_PREFIXES",
    "archive_pseudo_url",
    "article_id_for",
    "canonicalize_url",
    "host_of",
    "is_pseudo_url",
    "registrable_part",
    "same_site",
    "site_key",
]

#: The one pseudo-URL scheme: an archive record without a real URL is ``urn:newsflow:archive:<record id>``.
PSEUDO_URL_PREFIX = "urn:newsflow:archive:"


def archive_pseudo_url(record_id: str) -> str:
    """The pseudo-URL that stands for an archive record without a URL of its own."""
    return f"{PSEUDO_URL_PREFIX}{record_id}"


def is_pseudo_url(url: str) -> bool:
    """True for a well-formed pseudo-URL (printable, no spaces) in the one scheme."""
    return url.startswith(PSEUDO_URL_PREFIX) and url.isprintable() and " " not in url


#: Query parameter names (lowercase) that only track campaigns/clicks and never select content.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "mc_cid",
        "mc_eid",
        "igshid",
        "igsh",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ref_src",
        "ref_url",
        "cmpid",
        "ocid",
        "spm",
        "scm",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wt.mc_id",
        "at_medium",
        "at_campaign",
        "sr_share",
        "__twitter_impression",
    }
)
#: Name prefixes (lowercase) of tracking parameters: ``utm_source``, ``UTM_Medium``, …
TRACKING_PREFIXES: tuple[str, ...] = ("utm_",)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_HOST_OK = re.compile(r"^[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?$")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Characters allowed raw (RFC 3986 pchar minus '%', plus '/' for paths, '/?' for queries).
_SUB_DELIMS = "!$&'()*+,;="
_PATH_SAFE = frozenset(_UNRESERVED | set(_SUB_DELIMS) | set(":@/"))
# Inside one query name or value, '&', '=' and '+' keep whatever form they had (see _norm_query).
_QUERY_SAFE = frozenset(_UNRESERVED | set("!$'()*,;:@/?+"))
_HEX = frozenset("0123456789abcdefABCDEF")
_GENERIC_SLDS = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "or", "ne", "go", "gob", "nic"})
_SITE_PREFIXES = ("www.", "m.", "amp.")


def _normalise_escapes(part: str, safe: frozenset[str]) -> str:
    """Decode escapes of unreserved chars, uppercase other escapes, encode what is not ``safe``."""
    out: list[str] = []
    i = 0
    n = len(part)
    while i < n:
        ch = part[i]
        if ch == "%":
            if i + 2 < n and part[i + 1] in _HEX and part[i + 2] in _HEX:
                byte = int(part[i + 1 : i + 3], 16)
                decoded = chr(byte)
                out.append(decoded if byte < 0x80 and decoded in _UNRESERVED else f"%{byte:02X}")
                i += 3
                continue
            out.append("%25")
        elif ch in safe:
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, so ``/a/./b/../c`` and ``/a/c`` are one URL."""
    if "." not in path:
        return path
    segments = path.split("/")
    out: list[str] = []
    for seg in segments[1:] if path.startswith("/") else segments:
        if seg == ".":
            continue
        if seg == "..":
            if out:
                out.pop()
            continue
        out.append(seg)
    result = "/" + "/".join(out)
    if segments[-1] in (".", "..") and not result.endswith("/"):
        result += "/"
    return result


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


def _norm_query(query: str) -> str:
    pairs: list[tuple[str, str | None]] = []
    for raw in query.split("&"):
        if not raw:
            continue
        name, eq, value = raw.partition("=")
        name_n = _normalise_escapes(name, _QUERY_SAFE | {"="})
        if not name_n:
            continue
        decoded_name = re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), name_n)
        if _is_tracking(decoded_name):
            continue
        pairs.append((name_n, _normalise_escapes(value, _QUERY_SAFE | {"="}) if eq else None))
    pairs.sort(key=lambda p: p[0])
    return "&".join(name if value is None else f"{name}={value}" for name, value in pairs)


def _norm_host(host: str) -> str | None:
    """Lowercase, IDNA-encode and validate a host; ``None`` when it cannot be a real host."""
    if host.startswith("[") and host.endswith("]"):
        try:
            return "[" + ipaddress.IPv6Address(host[1:-1].split("%", 1)[0]).compressed + "]"
        except ValueError:
            return None
    if "%" in host:
        host = unquote(host)
    host = host.strip().rstrip(".").lower()
    if not host:
        return None
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            return None
    if len(host) > 253 or not _HOST_OK.match(host):
        return None
    for label in host.split("."):
        if not 0 < len(label) <= 63:
            return None
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError, ValueError):
                return None
    return host


def canonicalize_url(url: object, base: str | None = None) -> str | None:
    """The canonical http(s) form of ``url`` (resolved against ``base``), or ``None``."""
    if not isinstance(url, str):
        return None
    try:
        return _canonicalize(url, base)
    except (ValueError, UnicodeError):
        return None


def _canonicalize(url: str, base: str | None) -> str | None:
    url = _CONTROL.sub("", url.strip())
    if not url:
        return None
    if base:
        clean_base = _CONTROL.sub("", base.strip()) if isinstance(base, str) else ""
        if clean_base:
            url = urljoin(clean_base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    netloc = parts.netloc.rpartition("@")[2]  # drop userinfo
    if netloc.startswith("["):
        close = netloc.find("]")
        if close < 0:
            return None
        host_raw, port_raw = netloc[: close + 1], netloc[close + 1 :]
        if port_raw and not port_raw.startswith(":"):
            return None
        port_raw = port_raw[1:]
    else:
        host_raw, _, port_raw = netloc.partition(":")
    host = _norm_host(host_raw)
    if host is None:
        return None
    port: int | None = None
    if port_raw:
        if not port_raw.isdigit() or len(port_raw) > 5:
            return None
        port = int(port_raw)
        if not 0 < port < 65536:
            return None
    hostport = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _remove_dot_segments(_normalise_escapes(parts.path, _PATH_SAFE)) or "/"
    if not path.startswith("/"):
        path = "/" + path
    query = _norm_query(parts.query)
    return f"{scheme}://{hostport}{path}" + (f"?{query}" if query else "")


def article_id_for(canonical_url: str) -> str:
    """Stable 32-hex-char id of a canonical URL (sha256 prefix: 128 bits, collisions negligible)."""
    return hashlib.sha256(canonical_url.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def host_of(url: str | None) -> str:
    """Lowercase (IDNA) host of an http(s) URL without port; ``""`` when there is none."""
    canonical = canonicalize_url(url) if url else None
    if canonical is None:
        return ""
    netloc = canonical.split("/", 3)[2]
    if netloc.startswith("["):
        return netloc[: netloc.find("]") + 1]
    return netloc.partition(":")[0]


def _is_ip(host: str) -> bool:
    if host.startswith("["):
        return True
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def site_key(url: str | None) -> str:
    """Host without a leading ``www.``/``m.``/``amp.`` label: one key per publication."""
    host = host_of(url)
    if _is_ip(host):
        return host
    changed = True
    while changed:
        changed = False
        for prefix in _SITE_PREFIXES:
            if host.startswith(prefix) and "." in host[len(prefix) :]:
                host = host[len(prefix) :]
                changed = True
    return host


def registrable_part(host: str) -> str:
    """Approximate registrable domain of a host (see module docstring); IPs are their own."""
    if not host or _is_ip(host):
        return host
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _GENERIC_SLDS:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def same_site(a: str | None, b: str | None) -> bool:
    """True when both URLs belong to one publication (equal site keys or registrable parts)."""
    ka, kb = site_key(a), site_key(b)
    if not ka or not kb:
        return False
    return ka == kb or registrable_part(ka) == registrable_part(kb)
