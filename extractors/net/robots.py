"""robots.txt parsing (RFC 9309) and a per-host cache that never does HTTP itself.

Why not ``urllib.robotparser`` for the matching: it applies the *first* matching rule (RFC 9309
and every major crawler use the *longest* match, with Allow winning ties), and it percent-quotes
rule paths so the ``*`` and ``$`` wildcards common on news sites (``Disallow: /*?``) never match.
A site with ``Disallow: /`` + ``Allow: /news/`` would be wrongly refused.  The grammar is small,
so it is parsed here; the bytes always come from our own guarded fetch path.

Failure policy (documented choice): robots.txt that is missing (4xx) allows everything, as RFC
9309 says.  A robots.txt that is unreachable (5xx, timeout, refused address …) also allows — the
RFC asks for "assume disallow", but ``ROBOTS_DISALLOWED`` is a *permanent* reject here, so a
short server outage would permanently drop articles; the page fetch itself still has to succeed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

log = logging.getLogger(__name__)

#: RFC 9309 asks parsers to handle at least 500 KiB; more than that is ignored.
MAX_ROBOTS_BYTES = 512 * 1024

_SAFE = "/?&=:;@!$'()*+,~"


def _normalize(text: str) -> str:
    """One canonical percent-encoding so ``/a%7eb`` and ``/a~b`` compare equal."""
    return quote(unquote(text), safe=_SAFE)


@dataclass(frozen=True, slots=True)
class Rule:
    allow: bool
    pattern: str  # normalized, may contain * and a trailing $
    regex: re.Pattern[str]

    @classmethod
    def build(cls, allow: bool, raw: str) -> Rule:
        anchored = raw.endswith("$")
        body = raw[:-1] if anchored else raw
        pieces = [_normalize(p) for p in body.split("*")]
        pattern = "*".join(pieces) + ("$" if anchored else "")
        regex = ".*".join(re.escape(p) for p in pieces) + ("$" if anchored else "")
        return cls(allow=allow, pattern=pattern, regex=re.compile(regex, re.DOTALL))

    @property
    def specificity(self) -> int:
        return len(self.pattern)


@dataclass(slots=True)
class _Group:
    agents: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RobotsPolicy:
    """Rules of one robots.txt for one crawler; ``rules=()`` means allow everything."""

    rules: tuple[Rule, ...] = ()

    @classmethod
    def allow_all(cls) -> RobotsPolicy:
        return cls(())

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        path = parts.path or "/"
        if path == "/robots.txt":
            return True
        target = _normalize(path + (f"?{parts.query}" if parts.query else ""))
        best: Rule | None = None
        for rule in self.rules:
            if not rule.regex.match(target):
                continue
            if (
                best is None
                or rule.specificity > best.specificity
                or (rule.specificity == best.specificity and rule.allow and not best.allow)
            ):
                best = rule
        return best is None or best.allow


def product_token(user_agent: str) -> str:
    """The crawler name robots.txt groups are matched against (``newsflow/0.1 (...)`` → ``newsflow``)."""
    token = re.match(r"[A-Za-z_-]+", user_agent.strip())
    return token.group(0).lower() if token else "*"


def parse_robots(data: bytes | str, user_agent: str) -> RobotsPolicy:
    """Parse robots.txt and keep the rules that apply to ``user_agent``.

    All groups naming our product token are merged; if none does, all ``*`` groups are merged.
    Unknown lines, ``Sitemap`` and rules outside a group are ignored.
    """
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    text = text[:MAX_ROBOTS_BYTES].lstrip("\ufeff")
    groups: list[_Group] = []
    current: _Group | None = None
    in_agent_lines = False
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (s.strip() for s in line.split(":", 1))
        key = key.lower()
        if key in ("user-agent", "useragent"):
            if not value:
                continue
            if current is None or not in_agent_lines:
                current = _Group()
                groups.append(current)
            current.agents.append("*" if value == "*" else product_token(value))
            in_agent_lines = True
        elif key in ("allow", "disallow"):
            in_agent_lines = False
            if current is None or not value:  # empty Disallow means "nothing disallowed"
                continue
            current.rules.append(Rule.build(key == "allow", value))
        elif key != "sitemap":  # sitemap lines are global; anything else closes the agent list
            in_agent_lines = False
    token = product_token(user_agent)
    mine = [g for g in groups if token in g.agents]
    chosen = mine or [g for g in groups if "*" in g.agents]
    return RobotsPolicy(tuple(rule for g in chosen for rule in g.rules))


def robots_url_for(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}/robots.txt"


#: Fetches a robots.txt URL and returns ``(status, body)``; raises on network failure.
RobotsFetch = Callable[[str], Awaitable[tuple[int, bytes]]]


class RobotsCache:
    """One policy per scheme+host, fetched at most once even under concurrent lookups."""

    def __init__(self, fetch: RobotsFetch, user_agent: str) -> None:
        self._fetch = fetch
        self._user_agent = user_agent
        self._policies: dict[str, RobotsPolicy] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def policy_for(self, url: str) -> RobotsPolicy:
        key = robots_url_for(url)
        if key in self._policies:
            return self._policies[key]
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._policies:
                self._policies[key] = await self._load(key)
        return self._policies[key]

    async def allowed(self, url: str) -> bool:
        return (await self.policy_for(url)).allowed(url)

    async def _load(self, robots_url: str) -> RobotsPolicy:
        try:
            status, body = await self._fetch(robots_url)
        except Exception as exc:  # unreachable → allow (see module docstring)
            log.info("robots.txt %s unavailable (%s); allowing", robots_url, exc)
            return RobotsPolicy.allow_all()
        if 200 <= status < 300:
            return parse_robots(body, self._user_agent)
        log.info("robots.txt %s answered %s; allowing", robots_url, status)
        return RobotsPolicy.allow_all()
