"""Feed lists: ``feeds.yaml`` and OPML subscription files → ``FeedSpec`` (and back to YAML).

Every problem raises ``ConfigError`` with one line naming the file, the entry and what is wrong.
OPML is parsed with entity resolution, DTD loading and network access disabled.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from lxml import etree
from pydantic import ValidationError

from extractors.normalize.text import one_line, plain_text, unique_casefold
from extractors.normalize.urls import canonicalize_url
from schemas.records import FeedSpec
from schemas.settings import ConfigError

__all__ = ["feed_key", "load_feed_list", "merge_feed_specs", "parse_opml", "save_feed_list"]

_ENTITY_DECL_HINT = re.compile(rb"<!ENTITY", re.IGNORECASE)

# libyaml's safe loader when PyYAML was built with it (~10× faster on a 500-feed list), else
# the pure-Python one: the same documents load the same way.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _opt_text(value: object) -> str | None:
    return plain_text(value) or None



_FEED_KEYS = frozenset({"url", "name", "outlet", "tags", "disabled"})


def feed_key(url: str) -> str:
    """Identity of a feed URL for de-duplication (its canonical form, else the stripped text)."""
    return canonicalize_url(url) or url.strip()


def _feed_url(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(f"{where}: entry has no 'url'")
    url = raw.strip()
    if url.lower().startswith("feed:"):  # feed://host/x and feed:https://host/x
        rest = url[5:]
        url = rest if rest.lower().startswith(("http://", "https://")) else "http:" + rest
    if not url.lower().startswith(("http://", "https://")) or canonicalize_url(url) is None:
        raise ConfigError(f"{where}: url {one_line(repr(raw), 120)} is not an http(s) URL")
    return url


def _tags(raw: object, where: str) -> list[str]:
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(t, str | int | float) for t in items):
        raise ConfigError(f"{where}: 'tags' must be a string or a list of strings")
    return unique_casefold(plain_text(t) for t in items)


def _spec_from_entry(entry: object, where: str) -> FeedSpec:
    if isinstance(entry, str):
        return FeedSpec(url=_feed_url(entry, where))
    if not isinstance(entry, Mapping):
        raise ConfigError(
            f"{where}: expected a URL string or a mapping with 'url', got {type(entry).__name__}"
        )
    unknown = sorted(str(k) for k in entry if k not in _FEED_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: disabled, name, outlet, tags, url)")
    name, outlet = entry.get("name"), entry.get("outlet")
    for key, value in (("name", name), ("outlet", outlet)):
        if value is not None and not isinstance(value, str | int | float):
            raise ConfigError(f"{where}: '{key}' must be a string")
    disabled = entry.get("disabled", False)
    if not isinstance(disabled, bool):
        raise ConfigError(f"{where}: 'disabled' must be true or false")
    return FeedSpec(
        url=_feed_url(entry.get("url"), where),
        name=_opt_text(name) if name is not None else None,
        outlet=_opt_text(outlet) if outlet is not None else None,
        tags=_tags(entry.get("tags"), where),
        enabled=not disabled,
    )


def merge_feed_specs(
    existing: Sequence[FeedSpec], new: Iterable[FeedSpec]
) -> tuple[list[FeedSpec], list[FeedSpec]]:
    """(merged list, specs actually added): existing entries win, duplicates by canonical URL."""
    merged = list(existing)
    seen = {feed_key(s.url) for s in merged}
    added: list[FeedSpec] = []
    for spec in new:
        key = feed_key(spec.url)
        if key in seen:
            continue
        seen.add(key)
        merged.append(spec)
        added.append(spec)
    return merged, added


def _dedupe_specs(specs: Iterable[FeedSpec]) -> list[FeedSpec]:
    """First occurrence wins; later duplicates contribute their name (if missing) and tags."""
    by_key: dict[str, FeedSpec] = {}
    for spec in specs:
        key = feed_key(spec.url)
        prior = by_key.get(key)
        if prior is None:
            by_key[key] = spec
        else:
            by_key[key] = prior.model_copy(
                update={"name": prior.name or spec.name, "outlet": prior.outlet or spec.outlet,
                        "tags": unique_casefold([*prior.tags, *spec.tags])}
            )
    return list(by_key.values())


def load_feed_list(path: str | os.PathLike[str], *, include_disabled: bool = False) -> list[FeedSpec]:
    """Read ``feeds.yaml`` (``feeds:`` list of URL strings or ``{url, name?, tags?, disabled?}``).

    Feeds marked ``disabled: true`` are left out unless ``include_disabled`` (for editing the list).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: feeds file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({one_line(exc.reason)} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read feeds file ({one_line(exc.strerror or exc)})") from None
    try:
        data = yaml.load(text, Loader=_SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise ConfigError(f"{path}: malformed YAML{where}: {one_line(problem)}") from None
    if not isinstance(data, Mapping):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ConfigError(f"{path}: expected a mapping with a 'feeds:' list, got {got}")
    if "feeds" not in data:
        raise ConfigError(f"{path}: missing key 'feeds'")
    feeds = data["feeds"]
    if feeds is None:
        return []
    if not isinstance(feeds, list):
        raise ConfigError(f"{path}: 'feeds' must be a list, got a {type(feeds).__name__}")
    try:
        specs = [_spec_from_entry(entry, f"{path}: feeds[{i}]") for i, entry in enumerate(feeds)]
    except ValidationError as exc:  # pragma: no cover - guarded by the checks above
        raise ConfigError(f"{path}: invalid feed entry: {one_line(exc.errors()[0]['msg'])}") from None
    specs = _dedupe_specs(specs)
    return specs if include_disabled else [s for s in specs if s.enabled]


def save_feed_list(path: str | os.PathLike[str], specs: Iterable[FeedSpec]) -> None:
    """Write specs as ``feeds.yaml`` atomically (temp file + rename), so a crash never truncates it."""
    path = Path(path)
    rows: list[dict[str, Any]] = []
    for spec in specs:
        row: dict[str, Any] = {"url": spec.url}
        if spec.name:
            row["name"] = spec.name
        if spec.outlet:
            row["outlet"] = spec.outlet
        if spec.tags:
            row["tags"] = list(spec.tags)
        if not spec.enabled:
            row["disabled"] = True
        rows.append(row)
    text = yaml.safe_dump({"feeds": rows}, sort_keys=False, allow_unicode=True, width=1000)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write feeds file ({one_line(exc.strerror or exc)})") from None


def _attr(el: etree._Element, name: str) -> str | None:
    """Attribute lookup ignoring case (exporters write ``xmlUrl``, ``xmlurl``, ``XMLURL``)."""
    wanted = name.lower()
    for key, value in el.attrib.items():
        if str(key).lower() == wanted:
            return str(value)
    return None


def _category_tags(raw: str | None) -> list[str]:
    """OPML ``category="/News/World,Tech"`` → ``["News", "World", "Tech"]``."""
    if not raw:
        return []
    return [seg.strip() for part in raw.split(",") for seg in part.split("/") if seg.strip()]


def parse_opml(data: bytes, *, source: str = "OPML") -> list[FeedSpec]:
    """Feeds in an OPML document: every outline with ``xmlUrl``; folder names and categories → tags.

    Parsed with entity resolution, DTD loading and network access disabled, and documents that
    declare entities are refused outright, so no OPML can expand or fetch anything.
    """
    if not data or not data.strip():
        raise ConfigError(f"{source}: malformed OPML: empty document")
    if _ENTITY_DECL_HINT.search(data[:65536]):
        raise ConfigError(f"{source}: malformed OPML: entity declarations are not allowed")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        line = f" at line {exc.lineno}" if getattr(exc, "lineno", None) else ""
        raise ConfigError(f"{source}: malformed OPML{line}: {one_line(exc.msg or exc)}") from None
    except (etree.LxmlError, ValueError) as exc:
        raise ConfigError(f"{source}: malformed OPML: {one_line(exc)}") from None
    if root is None or not isinstance(root.tag, str) or etree.QName(root).localname.lower() != "opml":
        raise ConfigError(f"{source}: malformed OPML: root element is not <opml>")
    body = next(
        (c for c in root if isinstance(c.tag, str) and etree.QName(c).localname.lower() == "body"), None
    )
    if body is None:
        raise ConfigError(f"{source}: malformed OPML: no <body> element")
    specs: list[FeedSpec] = []

    def walk(parent: etree._Element, folders: list[str]) -> None:
        for el in parent:
            if not isinstance(el.tag, str) or etree.QName(el).localname.lower() != "outline":
                continue
            label = _opt_text(_attr(el, "text")) or _opt_text(_attr(el, "title"))
            xml_url = _attr(el, "xmlUrl")
            tags = unique_casefold([*folders, *(plain_text(t) for t in _category_tags(_attr(el, "category")))])
            if xml_url is not None and xml_url.strip():
                where = f"{source}: outline {one_line(repr(label or xml_url), 80)}"
                specs.append(FeedSpec(url=_feed_url(xml_url, where), name=label, tags=[t for t in tags if t]))
            if len(el):
                walk(el, [*folders, label] if label and xml_url is None else folders)

    walk(body, [])
    return _dedupe_specs(specs)
