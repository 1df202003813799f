"""HTML pages → ExtractedDoc: charset decoding, trafilatura, metadata, block detection, cleaning.

The page is parsed once with lxml; trafilatura works on a copy of that tree and our own cues
(canonical link, descriptions, challenge markers) read the same tree, which keeps the whole
path close to the cost of a plain ``trafilatura.extract`` call.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import trafilatura
from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from extractors.content.cleaner import clean_text
from extractors.content.language import detect_language
from extractors.normalize.dates import normalize_date
from extractors.normalize.text import decode_bytes, strip_controls
from schemas.records import ExtractedDoc

LOGGER = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# metadata from <head> and JSON-LD (one pass over the parsed tree)
# --------------------------------------------------------------------------------------------

# og:title first: JSON-LD headlines are often cut to 110 characters for search engines
_TITLE_KEYS = ("og:title", "headline", "twitter:title", "dc.title", "sailthru.title", "parsely-title")
_DESCRIPTION_KEYS = ("description", "og:description", "twitter:description", "dc.description")
_AUTHOR_KEYS = (
    "author",
    "article:author",
    "dc.creator",
    "dcterms.creator",
    "parsely-author",
    "sailthru.author",
    "byl",
    "citation_author",
    "cxenseparse:author",
)
_DATE_KEYS = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "datepublished",
    "article.published",
    "published_time",
    "publishdate",
    "publish-date",
    "publish_date",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "dcterms.created",
    "citation_publication_date",
    "citation_date",
    "date",
    "datecreated",
)
_SITE_KEYS = ("og:site_name", "application-name", "publisher", "dc.publisher")
_TAG_KEYS = ("article:tag", "news_keywords", "keywords", "parsely-tags", "article:section")
_ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "backgroundnewsarticle",
        "blogposting",
        "liveblogposting",
        "socialmediaposting",
        "scholarlyarticle",
        "techarticle",
        "report",
        "webpage",
        "creativework",
    }
)
_TITLE_SPLIT_RE = re.compile(r"\s+[|–—•·:»«-]{1,2}\s+")
_AUTHOR_SPLIT_RE = re.compile(r"\s*(?:,|;|\||\band\b|&|\bund\b|\by\b|\bet\b|\be\b)\s*", re.I)
_BY_PREFIX_RE = re.compile(r"^\s*(?:by|von|por|par|di|door|av|af)\s*:?\s+", re.I)
_URLISH_RE = re.compile(r"^(?:https?:|www\.)|/|@|\.(?:com|org|net)\b", re.I)


class _Meta:
    """What the page declares about itself."""

    __slots__ = (
        "authors",
        "canonical",
        "dates",
        "descriptions",
        "free",
        "html_lang",
        "jsonld_date",
        "og_url",
        "sites",
        "tags",
        "title_tag",
        "titles",
    )

    def __init__(self) -> None:
        self.titles: dict[str, str] = {}
        self.descriptions: dict[str, str] = {}
        self.authors: list[str] = []
        self.dates: dict[str, str] = {}
        self.sites: dict[str, str] = {}
        self.tags: list[str] = []
        self.canonical: str | None = None
        self.og_url: str | None = None
        self.title_tag: str | None = None
        self.html_lang: str | None = None
        self.jsonld_date: str | None = None
        self.free: bool | None = None


def _text_of(value: object) -> str | None:
    if isinstance(value, str):
        value = " ".join(strip_controls(value).split())
        return value or None
    return None


def _read_meta(tree: HtmlElement) -> _Meta:
    meta = _Meta()
    lang = tree.get("lang") or tree.get("xml:lang")
    if lang:
        meta.html_lang = lang.strip()
    for el in tree.iter("meta", "link", "title", "script", "time"):
        tag = el.tag
        if tag == "meta":
            key = (
                (el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv") or "")
                .strip()
                .lower()
            )
            content = _text_of(el.get("content"))
            if not key or not content:
                continue
            if key in _TITLE_KEYS:
                meta.titles.setdefault(key, content)
            elif key in _DESCRIPTION_KEYS:
                meta.descriptions.setdefault(key, content)
            elif key in _AUTHOR_KEYS:
                meta.authors.append(content)
            elif key in _DATE_KEYS:
                meta.dates.setdefault(key, content)
            elif key in _SITE_KEYS:
                meta.sites.setdefault(key, content)
            elif key in _TAG_KEYS:
                meta.tags.append(content)
            elif key == "og:url":
                meta.og_url = meta.og_url or content
            elif key in ("content-language", "og:locale", "language", "dc.language") and not meta.html_lang:
                meta.html_lang = content
        elif tag == "link":
            rel = (el.get("rel") or "").lower().split()
            if "canonical" in rel and meta.canonical is None:
                meta.canonical = _text_of(el.get("href"))
        elif tag == "title":
            if meta.title_tag is None:
                meta.title_tag = _text_of(el.text_content())
        elif tag == "script":
            if (el.get("type") or "").strip().lower() == "application/ld+json" and el.text:
                _read_jsonld(el.text, meta)
        elif tag == "time" and (stamp := _text_of(el.get("datetime"))):
            if "datePublished" in (el.get("itemprop") or "") or el.get("pubdate") is not None:
                meta.dates.setdefault("datepublished", stamp)
            meta.dates.setdefault("time", stamp)  # first <time> of the page: a weak fallback
    return meta


def _iter_jsonld(node: object, depth: int = 0) -> Iterable[dict[str, object]]:
    if depth > 4:
        return
    if isinstance(node, list):
        for item in node:
            yield from _iter_jsonld(item, depth + 1)
    elif isinstance(node, dict):
        yield node
        graph = node.get("@graph")
        if graph is not None:
            yield from _iter_jsonld(graph, depth + 1)


def _jsonld_types(obj: dict[str, object]) -> set[str]:
    raw = obj.get("@type")
    items = raw if isinstance(raw, list) else [raw]
    return {str(item).lower() for item in items if isinstance(item, str)}


def _person_names(value: object) -> list[str]:
    names: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        name = _text_of(item.get("name")) if isinstance(item, dict) else _text_of(item)
        if name:
            names.append(name)
    return names


def _read_jsonld(raw: str, meta: _Meta) -> None:
    try:
        data = json.loads(raw)
    except ValueError:
        return
    for obj in _iter_jsonld(data):
        types = _jsonld_types(obj)
        if not types & _ARTICLE_TYPES:
            continue
        is_page = types <= {"webpage", "creativework"}
        date = _text_of(obj.get("datePublished")) or _text_of(obj.get("dateCreated"))
        if is_page:
            # a WebPage's date is a weaker signal than the article's own
            if date and meta.jsonld_date is None:
                meta.dates.setdefault("webpage", date)
            continue
        if date and meta.jsonld_date is None:
            meta.jsonld_date = date
        headline = _text_of(obj.get("headline"))
        if headline:
            meta.titles.setdefault("headline", headline)
        meta.authors.extend(_person_names(obj.get("author")) or _person_names(obj.get("creator")))
        publisher = obj.get("publisher")
        if isinstance(publisher, dict) and (name := _text_of(publisher.get("name"))):
            meta.sites.setdefault("publisher", name)
        keywords = obj.get("keywords")
        if isinstance(keywords, list):
            meta.tags.extend(k for k in keywords if isinstance(k, str))
        elif isinstance(keywords, str):
            meta.tags.append(keywords)
        free = obj.get("isAccessibleForFree")
        if free is not None:
            meta.free = str(free).strip().lower() not in ("false", "0", "no")


def _clean_authors(raw: Iterable[str]) -> list[str]:
    """Split and tidy author strings; drop URLs, handles and things too long to be a name."""
    out: list[str] = []
    seen: set[str] = set()
    for value in raw:
        value = _BY_PREFIX_RE.sub("", value)
        for part in _AUTHOR_SPLIT_RE.split(value):
            name = part.strip(" \t-–—:·|()[]\"'")
            if not name or _URLISH_RE.search(name) or not any(c.isalpha() for c in name):
                continue
            if not 2 <= len(name.split()) <= 5 or len(name) > 60:
                continue  # one-word "authors" are handles, desks or site names
            if name.isupper() and len(name) > 3:
                name = name.title()
            key = name.casefold()
            if key not in seen:
                seen.add(key)
                out.append(name)
    return out[:10]


def _clean_tags(raw: Iterable[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for value in raw:
        for part in value.split(","):
            tag = " ".join(strip_controls(part).split()).strip(" #")
            if not tag or len(tag) > 60:
                continue
            key = tag.casefold()
            if key not in seen:
                seen.add(key)
                out.append(tag)
    return out[:30]


def _strip_site_suffix(title: str, site: str | None, url: str) -> str:
    """Drop a trailing " | Site Name" / " - site.com" segment naming the publication."""
    parts = _TITLE_SPLIT_RE.split(title)
    if len(parts) < 2:
        return title
    host = urlsplit(url).hostname or ""
    labels = {lab.replace("-", "") for lab in host.lower().split(".") if len(lab) > 3} - {"blog", "news"}
    last = parts[-1].casefold().replace(" ", "").replace("-", "")
    named = bool(site) and parts[-1].casefold() == str(site).casefold()
    if named or any(label in last for label in labels):
        kept = title[: title.rfind(parts[-1])].rstrip()
        kept = kept.rstrip("|–—•·:»«-").rstrip()
        return kept or title
    return title


def _choose_title(meta: _Meta, tree: HtmlElement, url: str) -> str | None:
    site = next((meta.sites[k] for k in _SITE_KEYS if k in meta.sites), None)
    for key in _TITLE_KEYS:
        if key in meta.titles:
            return _strip_site_suffix(meta.titles[key], site, url)
    if meta.title_tag:
        parts = _TITLE_SPLIT_RE.split(meta.title_tag)
        if len(parts) > 1:
            site_key = (site or "").casefold()
            parts = [p for p in parts if p.casefold() != site_key] or parts
            if len(parts) > 1:
                parts.sort(key=lambda p: len(p.split()), reverse=True)
        return parts[0].strip() or None
    h1 = tree.find(".//h1")
    if h1 is not None:
        return _text_of(h1.text_content())
    return None


_URL_DATE_RE = re.compile(r"/((?:19|20)\d{2})[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?:/|[-_.]|$)")


def _parse_published(meta: _Meta, url: str, tolerance_hours: float) -> datetime | None:
    """Publication date: JSON-LD, then ``<meta>``/``<time>`` keys, then a date in the URL path.

    (htmldate's full markup search would find a few more, at several times the cost of
    everything else we add to trafilatura; the feed date has precedence anyway.)
    """
    candidates = [meta.jsonld_date, *(meta.dates.get(key) for key in _DATE_KEYS), meta.dates.get("webpage")]
    candidates.append(meta.dates.get("time"))
    for value in candidates:
        if value:
            parsed = normalize_date(value, tolerance_hours=tolerance_hours)
            if parsed is not None:
                return parsed
    match = _URL_DATE_RE.search(url)
    if match:
        year, month, day = (int(g) for g in match.groups())
        return normalize_date(datetime(year, month, day, tzinfo=UTC), tolerance_hours=tolerance_hours)
    return None


# --------------------------------------------------------------------------------------------
# block, challenge and paywall pages
# --------------------------------------------------------------------------------------------

_BLOCK_TITLE_RE = re.compile(
    r"just a moment|attention required|access denied|access to this page has been denied|\b403\b|forbidden"
    r"|are you a (?:robot|human)|security check|verif(?:y|ying) (?:you are|that you are) (?:a )?human|one more step"
    r"|ddos[- ]protection|pardon our interruption|request unsuccessful|bot (?:check|verification|protection)"
    r"|robot check|captcha|you have been blocked|checking your browser|human verification|please wait\b"
    r"|error 10\d\d|page unavailable|zugriff verweigert|acceso denegado|accès refusé",
    re.I,
)
# Markup of bot-protection interstitials (matched as plain substrings of the lower-cased page:
# a big alternation regex costs milliseconds on a 100 kB page, ``in`` costs microseconds)
_CHALLENGE_MARKERS = (
    "cf-browser-verification",
    "cf_chl_",
    "challenge-platform",
    "cf-turnstile",
    "cf-challenge",
    "g-recaptcha",
    "h-captcha",
    "hcaptcha.com",
    "recaptcha/api",
    "_incapsula_resource",
    "px-captcha",
    "perimeterx",
    "captcha-delivery",
    "datadome",
    "distil_r_captcha",
    "ddos-guard",
    "sucuri_cloudproxy",
    "awswaf",
    "challenge-form",
)
_BLOCK_TEXT_RE = re.compile(
    r"enable javascript and cookies|please (?:turn on|enable) (?:javascript|cookies)|javascript (?:is )?(?:disabled|required)"
    r"|checking (?:if the site connection is secure|your browser)|verif(?:y|ying) (?:you are|that you are) (?:a )?human"
    r"|you have been blocked|access (?:to this page )?(?:has been )?denied|you don'?t have permission to access"
    r"|unusual traffic|complete the security check|press (?:and|&) hold|\bray id\b|\bcaptcha\b|request blocked"
    r"|not a robot|are you a robot",
    re.I,
)
_PAYWALL_RE = re.compile(
    r"subscribe (?:now )?to (?:continue|read|keep reading|unlock|access)|(?:already|are you) a (?:subscriber|member)"
    r"|this (?:article|content|story|page) is (?:only )?(?:available|reserved|exclusive) (?:to|for) (?:our )?(?:subscribers|members|premium)"
    r"|to (?:continue|keep) reading|subscribers? only|for subscribers|premium (?:content|article|story)"
    r"|(?:sign|log) ?in to (?:continue|read|keep reading)|create (?:a free|an) account to (?:continue|read)"
    r"|reached your (?:free )?(?:article |monthly )?limit|free articles? (?:remaining|left)"
    r"|register (?:for free )?to (?:continue|read)|unlock (?:this|the full) (?:article|story)|\bpaywall\b"
    r"|réservé aux abonnés|pour lire la suite|abonnez-vous|nur für abonnenten|exklusiv für abonnenten"
    r"|jetzt (?:weiterlesen|abonnieren)|solo para suscriptores|exclusivo para suscriptores|suscríbete para (?:seguir|leer)"
    r"|per continuare a leggere|riservato agli abbonati|exclusivo para assinantes",
    re.I,
)
_TINY_TEXT = 400  # characters: a teaser at most (two or three sentences)
_SHORT_TEXT = 600  # characters: below this a page has no story worth keeping on its own
_VISIBLE_LIMIT = 20_000  # a block notice sits in the first screens of text
_SMALL_PAGE = 100_000  # characters of HTML; block and challenge pages are far smaller
_SUBSTANTIAL_TEXT = 1500  # above this, cue words are incidental (a comment form's captcha, ...)


def _visible_text(tree: HtmlElement) -> str:
    """Page text without scripts/styles, for pages whose extraction came out short."""
    body = tree.find("body")
    root = body if body is not None else tree
    parts = _VISIBLE_TEXT_XPATH(root)
    return " ".join(" ".join(parts if isinstance(parts, list) else []).split())


_VISIBLE_TEXT_XPATH = XPath(".//text()[not(ancestor::script or ancestor::style or ancestor::template)]")


def detect_block(
    html: str, tree: HtmlElement, text: str, title: str | None, meta_free: bool | None
) -> str | None:
    """Why this page is a block/challenge/paywall page rather than a story, or ``None``.

    Cue words only count together with structure: a short extraction (or an empty one) and
    little visible text, a block-page ``<title>``, or challenge-form markup. A long article
    that mentions "captcha" is a story.
    """
    text_len = len(text)
    if text_len >= _SUBSTANTIAL_TEXT:
        return None
    title_hit = bool(title and len(title) < 120 and _BLOCK_TITLE_RE.search(title))
    if text_len >= _SHORT_TEXT and not title_hit:
        return None
    # challenge pages are small; on a big page the markup scan would only cost time
    small_page = len(html) <= _SMALL_PAGE
    markup_hit = False
    if small_page:
        lowered = html.lower()
        markup_hit = any(marker in lowered for marker in _CHALLENGE_MARKERS)
    if title_hit and (markup_hit or text_len < _SHORT_TEXT):
        return f"challenge page: {title!s:.80}"
    if text_len >= _SHORT_TEXT:
        return None
    visible = _visible_text(tree)[:_VISIBLE_LIMIT] if small_page else text
    if markup_hit and text_len < _TINY_TEXT and len(visible) < 2000:
        return "challenge page: bot-protection markup"
    if len(visible) < 2500 and _BLOCK_TEXT_RE.search(visible):
        return "block page: access or verification notice"
    if text_len < _TINY_TEXT and (_PAYWALL_RE.search(visible) or meta_free is False):
        return "paywall: only a teaser is visible"
    return None


# --------------------------------------------------------------------------------------------
# extraction
# --------------------------------------------------------------------------------------------


def _resolve(href: str | None, url: str) -> str | None:
    if not href:
        return None
    try:
        return urljoin(url, href.strip())
    except ValueError:
        return None


def extract_html(
    html: str | bytes, url: str, *, tolerance_hours: float, content_type: str | None = None
) -> ExtractedDoc:
    """Main text and metadata of one HTML page, cleaned, with block/paywall detection.

    The page is parsed once; trafilatura (default precision/recall settings, tables kept,
    comments left out) works on a copy of the tree while our metadata reader and block
    detector read the original.
    """
    source = decode_bytes(html, content_type) if isinstance(html, bytes) else html.replace("\x00", "")
    tree = load_html(source) if source.strip() else None
    if tree is None:
        return ExtractedDoc()

    meta = _read_meta(tree)
    try:
        document = trafilatura.bare_extraction(tree, url=url, include_comments=False, with_metadata=False)
    except Exception as exc:  # a parser bug must not kill the batch
        LOGGER.warning("trafilatura failed on %s: %s", url, exc)
        document = None
    raw_text = strip_controls((getattr(document, "text", None) or "") if document is not None else "")

    title = _choose_title(meta, tree, url)
    hinted = _language_hint(meta.html_lang)
    text = clean_text(raw_text, title=title, language=hinted)
    language = detect_language(text) or hinted

    block_reason = detect_block(source, tree, text, meta.title_tag or title, meta.free)
    published = _parse_published(meta, url, tolerance_hours) if block_reason is None else None
    summary = next((meta.descriptions[k] for k in _DESCRIPTION_KEYS if k in meta.descriptions), None)
    site_name = next((meta.sites[k] for k in _SITE_KEYS if k in meta.sites), None)
    canonical = _resolve(meta.canonical, url) or _resolve(meta.og_url, url)

    return ExtractedDoc(
        title=title,
        authors=_clean_authors(meta.authors),
        published_at=published,
        published_at_source="html" if published is not None else None,
        site_name=site_name,
        language=language,
        text=text,
        summary=summary[:2000] if summary else None,
        tags=_clean_tags(meta.tags),
        canonical_url=canonical,
        blocked=block_reason is not None,
        block_reason=block_reason,
    )


_LANG_CODE_RE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]+)*$", re.I)


def _language_hint(value: str | None) -> str | None:
    """ISO 639-1 code from an ``<html lang>``/locale value such as ``en-US`` or ``de_DE``."""
    if not value:
        return None
    match = _LANG_CODE_RE.match(value.strip())
    if not match:
        return None
    code = match.group(1).lower()
    return code if len(code) == 2 else None
