"""Line-level boilerplate removal shared by the HTML path (after trafilatura) and text dumps.

Why line level: both trafilatura's text output and scraped plain-text dumps put one block
(paragraph, heading, caption, button label) on one line, and boilerplate is a property of a
whole block. Each line is judged on general cues — its vocabulary (calls to action, consent
notices, credits), its shape (length, terminal punctuation, a lone label), its position (top
of the story, after a "related" heading, after the last story paragraph), repetition inside
the same document and its script. The rules never look at a site name or a known sentence.

Conservative by design: a rule fires only on lines that cannot be story text (short interface
strings, lines that *start* with a credit marker, ...); long sentence-like paragraphs are only
removed by the narrow disclaimer/consent/credit rules. When unsure, a line is kept.

Every regex is compiled once at import; the cleaner is linear in the number of lines.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "LineVerdict",
    "caption_stamp_date",
    "classify",
    "clean_paragraphs",
    "clean_text",
    "is_caption_line",
    "is_headline_like",
    "looks_like_sentence",
]

# --------------------------------------------------------------------------------------------
# vocabulary (multilingual, lower-case; matched against normalised lines)
# --------------------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    """A set of space-separated words (keeps long vocabularies readable)."""
    return frozenset(text.split())


def _vocab(block: str) -> frozenset[str]:
    """One entry per line or per ``|``-separated item, lower-cased."""
    return frozenset(
        item.strip().lower() for line in block.splitlines() for item in line.split("|") if item.strip()
    )


# Whole-line interface strings: buttons, counters, widget titles. Compared after lower-casing
# and trimming decoration, so "Share:" and "» More" match too.
_UI_LINES = _vocab(
    """
    share|shares|share this|share on|sharing|share this article|share this story|share this post
    share on facebook|share on twitter|share via email|tweet|email|e-mail|print|pin|whatsapp
    facebook|twitter|linkedin|reddit|telegram|pinterest|instagram|youtube|tiktok|flipboard|xing
    copy link|copy url|link copied|comments|comment|reply|replies|replydelete|report|like|likes
    subscribe|subscribed|unsubscribe|sign up|sign in|log in|login|logout|log out|register
    menu|search|close|skip to content|skip to main content|back to top|next|previous|prev
    show more|show less|load more|see more|view more|read more|continue reading|more info
    more information|click here|loading|loader|please wait|chats|chat|newsfeed|news feed
    advertisement|advertisements|advertising|ad|ads|sponsored|sponsored content|promoted
    anzeige|werbung|publicidad|publicité|pubblicità|reklama|реклама
    accept|accept all|i agree|reject all|got it|dismiss|cookie settings
    follow|follow us|followers|play|pause|mute|unmute|enlarge|fullscreen|full screen
    newsletter|newsletters|rss|rss feed|print article|view comments|add comment|post comment
    submit comment|write a comment|no comments|0 comments|you may also like
    log in or register|sign in or register|login or register|to participate in the discussion
    teilen|drucken|kommentare|kommentar|kommentieren|antworten|weiterlesen|teilen mit
    bild anzeigen|bild vergrößern|wird geladen|mehr anzeigen|schließen|inhaltsverzeichnis
    table of contents|kommentar schreiben|schreib einen kommentar|kommentar verfassen
    neuer kommentar|keine kommentare|zum newsletter anmelden|newsletter abonnieren
    compartir|comentarios|comentar|responder|imprimir|cargando|ver más|leer más
    dejá tu comentario|deja tu comentario|deja un comentario|escribe un comentario
    partager|commentaires|commenter|répondre|imprimer|chargement|lire la suite|voir plus
    publier un commentaire|laisser un commentaire|ajouter un commentaire
    condividi|commenti|rispondi|stampa|caricamento|leggi di più|lascia un commento
    compartilhar|comentários|carregando|leia mais|ver mais|deixe um comentário
    udostępnij|komentarze|skomentuj|odpowiedz|drukuj|ładowanie|czytaj więcej|dodaj komentarz
    delen|reacties|reageer|afdrukken|lees meer
    поделиться|комментарии|комментировать|ответить|загрузка|читать далее
    إضافة تعليق جديد|تعليقات|شارك
    """
)


# Headings that open a list of other stories. Matched against the whole (short) line.
_RELATED_NAME = r"[\w.'’&-]+(?:\ [\w.'’&-]+){0,4}"  # "More from <a section name of 1-5 words>"
_RELATED_HEADING_RE = re.compile(
    r"""^(?:
        (?:more\ )?related(?:\ (?:articles?|stories|posts?|content|news|coverage|topics|reading|links|items))?
      | (?:most\ )?popular(?:\ (?:now|today|stories|posts|articles|news|this\ week))?
      | most\ (?:read|viewed|shared|commented|emailed|recent|watched)(?:\ (?:stories|articles|news|today|this\ week))?
      | editor'?s?'?\ (?:choice|choices|picks?|selection|recommendations?)
      | editors'\ (?:choice|picks?)
      | recommended(?:\ (?:for\ you|stories|articles|reading|posts|videos?))?
      | you\ (?:may|might|could)\ also\ (?:like|enjoy|be\ interested\ in|want\ to\ read)
      | (?:also\ )?(?:trending|in\ case\ you\ missed\ it|don'?t\ miss|must\ read|read\ next|up\ next|what\ to\ read\ next|further\ reading|more\ stories|more\ news|more\ to\ read|more\ from\ {_NAME}|more\ on\ this\ (?:topic|story)|more\ in\ {_NAME}|top\ stories|latest\ (?:news|stories|posts|articles|headlines)|other\ (?:news|stories)|similar\ (?:articles|posts|stories)|see\ also|also\ on\ {_NAME}|related\ posts?|popular\ posts?|recent\ posts?|recent\ comments|latest\ comments|trending\ now|trending\ stories)
      | (?:auch\ interessant|das\ könnte\ (?:sie|dich)\ auch\ interessieren|(?:das\ thema\ )?könnte\ (?:sie|dich)\ auch\ interessieren|weitere\ (?:themen|artikel|beiträge|nachrichten|meldungen|news|informationen\ zum\ thema)(?:\ zum\ thema)?(?:\ aus\ {_NAME})?|mehr\ (?:zum\ thema|themen|artikel|nachrichten|aus\ {_NAME})|empfohlene\ (?:beiträge|artikel)|ähnliche\ (?:beiträge|artikel)|verwandte\ (?:beiträge|artikel|themen)|beliebte\ (?:beiträge|artikel)|meistgelesen(?:e\ artikel)?|meist\ gelesen|top-?themen|zum\ weiterlesen|lesen\ sie\ auch|schon\ gelesen|neueste\ (?:beiträge|kommentare|artikel)|letzte\ (?:beiträge|kommentare)|aktuelle\ (?:beiträge|artikel))
      | (?:notas?\ relacionadas?|noticias\ relacionadas|contenido\ relacionado|artículos\ relacionados|te\ puede\ interesar|le\ puede\ interesar|también\ te\ puede\ interesar|lo\ más\ (?:leído|visto)|más\ leídas?|más\ noticias|más\ sobre\ {_NAME}|te\ recomendamos|recomendados)
      | (?:articles?\ (?:similaires|liés|connexes)|sur\ le\ même\ sujet|à\ lire\ aussi|a\ lire\ aussi|lire\ aussi|les\ plus\ lus|les\ plus\ populaires|voir\ aussi|nos\ dernières\ actualités|dans\ la\ même\ rubrique)
      | (?:articoli\ correlati|potrebbe\ interessarti|leggi\ anche|i\ più\ letti|notizie\ correlate)
      | (?:leia\ também|notícias\ relacionadas|veja\ também|mais\ lidas|relacionadas)
      | (?:czytaj\ (?:też|także)|polecane|najczęściej\ czytane|zobacz\ (?:też|także)|powiązane\ artykuły)
      | (?:gerelateerde\ artikelen|lees\ ook|meest\ gelezen)
      | (?:читайте\ также|по\ теме|самое\ читаемое|популярное)
    )[\s:.!?»›>|–—-]*$""".replace("{_NAME}", _RELATED_NAME),
    re.X | re.I,
)

# "READ MORE: <another headline>" and its translations; the remainder must be headline-sized.
_LEADIN_RE = re.compile(
    r"""^[\s>»›*•-]*(?:
        read\ more|read\ also|also\ read|read|more|see\ also|related|recommended|watch|listen|
        watch\ now|watch\ more|related\ article|related\ story|related\ coverage|don'?t\ miss|
        must\ read|top\ story|trending|also\ see|read\ next|more\ on\ this|explainer|
        lesen\ sie\ (?:auch|hier|mehr|dazu)|auch\ lesen|mehr\ (?:zum\ thema|dazu|lesen)|weiterlesen|siehe\ auch|auch\ interessant|das\ könnte\ sie\ auch\ interessieren|
        lea\ (?:también|más|además)|lea|lee\ (?:también|más)|le\ puede\ interesar|te\ puede\ interesar|puedes\ ver|vea\ también|vea|mira\ también|mira|mire|también\ lea|recomendado|
        à\ lire\ aussi|a\ lire\ aussi|lire\ aussi|voir\ aussi|à\ voir\ aussi|
        leia\ também|leia\ mais|veja\ também|veja|
        leggi\ anche|leggi\ (?:altro|pure)|
        czytaj\ (?:też|także|więcej)|zobacz\ (?:też|także)|dowiedz\ się\ więcej|
        lees\ ook|
        читайте\ также|читать\ также
    )\s*(?:[:：»›>|–—]|\s-\s)""",
    re.X | re.I,
)

# Calls to action, account and comment prompts, consent/ad/copyright notices and opinion
# disclaimers. Each rule is (trigger words, pattern, max words of the line): a line is only
# searched with the patterns whose trigger words it contains, which keeps the cleaner cheap.
# Patterns run on the lower-cased line. A rule fires only on lines up to its word limit, so a
# long story paragraph that merely mentions a newsletter survives.
_SHORT = 45
_LONG = 90  # notices that can be long but are never story text
_PROMPT_SPECS: tuple[tuple[str, str, int], ...] = (
    ("love", r"\bspread the love\b", _SHORT),
    (
        "register registrieren",
        r"\b(?:log ?in|sign in) or (?:register|sign up)\b|\bbitte registrieren sie sich\b",
        _SHORT,
    ),
    ("discussion conversation", r"\b(?:participate in|join) the (?:discussion|conversation)\b", _SHORT),
    ("reply", r"\bleave a reply\b", _SHORT),
    (
        "comment comments commenting",
        r"\bleave a comment\b|\bpost (?:a|your) comment\b|\bcomments are (?:moderated|closed)\b"
        r"|\bcommenting (?:is )?(?:disabled|closed)\b|\bbe the first to comment\b|\bno comments yet\b"
        r"|^comment by\b|^\d+ comments?$|\bto (?:leave|post|write) a comment\b|\bwelcome (?:reader )?comments\b",
        _SHORT,
    ),
    ("published", r"\byour email address will not be published\b", _SHORT),
    ("required", r"\brequired fields are marked\b", _SHORT),
    ("logged", r"\byou must be logged in\b", _SHORT),
    (
        "log login",
        r"\bplease log ?in\b|\blog ?in (?:here )?to (?:comment|leave|reply|post|continue|read)\b",
        _SHORT,
    ),
    (
        "cookies cookie",
        r"\b(?:we|this (?:site|website)|our (?:site|website)) uses? cookies\b|\bcookie (?:policy|settings|preferences|consent)\b"
        r"|\b(?:wir|diese (?:seite|website)) (?:verwendet|verwenden|nutzt|nutzen) cookies\b",
        _LONG,
    ),
    (
        "continuing using",
        r"\bby (?:continuing|using) (?:to (?:use|browse) )?(?:this|our) (?:site|website)\b",
        _SHORT,
    ),
    ("sign signup", r"\bwe use your sign-?up\b", _LONG),
    (
        "sign signup",
        r"\bsign[ -]?up (?:now|today|here|free|for (?:our|the|a free|free|updates|alerts|emails?)|to (?:our|get|receive|the))\b"
        r"|\bfree sign[ -]?up\b",
        _SHORT,
    ),
    ("unsubscribe", r"\bunsubscribe at any time\b", _LONG),
    ("consented", r"\bconsented to\b", _SHORT),
    ("privacy", r"\bprivacy (?:policy|notice)\b.*\b(?:agree|accept|consent)", _SHORT),
    ("subscribe", r"\bsubscribe (?:now|today|here|for|to (?:our|the|read|continue|get|receive))\b", _SHORT),
    (
        "newsletter newsletters",
        r"\b(?:our|the) (?:daily |weekly |free |email )*newsletters?\b|\bnewsletter (?:sign-?up|anmelden|abonnieren)\b"
        r"|\b(?:unseren?|zum|den) newsletter\b|\bnewsletter\b.*\b(?:anmelden|abonnieren|bestellen|erhalten sie)\b",
        _SHORT,
    ),
    (
        "edition briefing app",
        r"\bget (?:our|the) [\w'’ ]{0,40}(?:newsletter|daily edition|app|briefing)\b",
        _SHORT,
    ),
    ("miss", r"\bnever miss (?:a|an|our)\b", _SHORT),
    ("inbox", r"\b(?:straight to|in|delivered to) your inbox\b", _SHORT),
    ("subscriber subscribers", r"\balready a subscriber\b|\bsubscribers? only\b", _SHORT),
    (
        "full",
        r"\bto (?:view|read) the full (?:story|article)\b|\bfor the full story\b|\bread (?:the )?full (?:article|story)\b",
        _SHORT,
    ),
    (
        "follow",
        r"\bfollow (?:us|[\w.@ ]{1,30}) on (?:twitter|facebook|instagram|linkedin|telegram|tiktok|youtube|x)\b",
        _SHORT,
    ),
    ("facebook", r"\blike us on facebook\b", _SHORT),
    ("join", r"\bjoin us on\b", _SHORT),
    (
        "share",
        r"\bshare this (?:article|story|post|page|video)\b|\bshare (?:on|via) (?:facebook|twitter|x|whatsapp|linkedin|email|e-mail)\b"
        r"|^share (?:on|via|with) [\w.-]+$",
        _SHORT,
    ),
    ("click", r"\bclick (?:here|to share)\b", 30),
    ("download", r"\bdownload (?:the|our) [\w ]{0,30}apps?\b", _SHORT),
    (
        "store play",
        r"\b(?:available|get it|download it) (?:on|from) (?:the )?(?:app store|google play)\b",
        30,
    ),
    ("journalism", r"\bsupport (?:our|independent|quality) journalism\b", _SHORT),
    ("consider", r"\bconsider (?:supporting|donating|a donation)\b", _SHORT),
    ("become", r"\bbecome a (?:member|supporter|patron|subscriber)\b", _SHORT),
    ("donate", r"\bdonate (?:now|today)\b", _SHORT),
    (
        "contains includes",
        r"\bthis (?:post|article|page) (?:contains|may contain|includes) (?:affiliate|references to products|sponsored)",
        _LONG,
    ),
    (
        "commission compensation",
        r"\bwe (?:may )?(?:earn|receive) (?:a )?(?:small )?(?:commission|compensation)\b",
        _LONG,
    ),
    ("affiliate", r"\baffiliate[- ]links?\b", _SHORT),
    ("advertise advertising", r"\badvertis(?:e|ing) with us\b", _SHORT),
    ("sponsored", r"\bsponsored by\b", 20),
    ("reserved", r"\ball rights reserved\b", 20),
    ("copyrighted", r"\bcopyrighted property\b", _LONG),
    ("permission", r"\bwritten permission\b.*\b(?:reprint|republish|reproduc)", _LONG),
    (
        "published broadcast rewritten redistributed reproduced",
        r"\bmay not be (?:published|broadcast|rewritten|redistributed|reproduced)\b",
        _LONG,
    ),
    ("expressed", r"\bviews expressed\b.*\b(?:own|necessarily)\b|\bopinions expressed\b", _LONG),
    (
        "necessarily",
        r"\bdo(?:es)? not necessarily (?:reflect|represent)\b|\bnot necessarily (?:those|the views)\b",
        _LONG,
    ),
    ("letter editor", r"\bletters? to the editor\b.*\bsubmit\b|\bsubmit (?:your|a) letter\b", _SHORT),
    # German
    (
        "kommentar kommentare",
        r"\bkommentare? (?:schreiben|verfassen|abgeben|hinzufügen)\b|\bum kommentare zu schreiben\b|\bkeine kommentare\b",
        _SHORT,
    ),
    ("melden müssen", r"\bmelden sie sich an\b|\bsie müssen (?:sich )?(?:anmelden|eingeloggt)\b", _SHORT),
    ("eingeloggt", r"\bnicht eingeloggt\b", _SHORT),
    ("benutzer nutzer leser", r"\bnur (?:angemeldete|registrierte) (?:benutzer|nutzer|leser)\b", _SHORT),
    ("netiquette", r"\bnetiquette\b", _SHORT),
    ("jetzt", r"\bjetzt (?:abonnieren|anmelden|registrieren|bestellen|kostenlos)\b", _SHORT),
    ("folgen folge", r"\bfolgen sie uns\b|\bfolge uns\b", _SHORT),
    ("teilen", r"\bteilen mit\b", _SHORT),
    (
        "datenschutz datenschutzerklärung datenschutzbestimmungen",
        r"\bdatenschutz\w*\b.*\b(?:akzeptier|zustimm|einverstanden)",
        _SHORT,
    ),
    ("enthält werbung", r"\benthält (?:affiliate|werbung)\b|\bwerbung\b.*\b(?:enthält|beitrag)\b", _SHORT),
    ("unterstütze unterstützen", r"\bunterstütze?n? (?:uns|unsere arbeit)\b", _SHORT),
    # Spanish / Portuguese
    ("síguenos siguenos", r"\bs[ií]guenos en\b", _SHORT),
    ("suscríbete suscribete suscríbase", r"\bsuscr[ií](?:bete|base)\b", _SHORT),
    ("comentar", r"\bpara comentar\b", _SHORT),
    ("comentario", r"\bdej[aá] tu comentario\b", _SHORT),
    ("hazte", r"\bhazte (?:miembro|socio)\b", _SHORT),
    ("canal", r"\bcanal de (?:telegram|youtube|whatsapp)\b", _SHORT),
    ("siga", r"\bsiga-nos\b", _SHORT),
    ("assine", r"\bassine (?:já|agora)\b", _SHORT),
    ("inscreva", r"\binscreva-se\b", _SHORT),
    # French / Italian
    ("suivez", r"\bsuivez-nous\b", _SHORT),
    ("abonnez", r"\babonnez-vous\b", _SHORT),
    ("suite", r"\bpour lire la suite\b", _SHORT),
    ("illimité", r"\bpour accéder en illimité\b", _SHORT),
    ("commentaire", r"\b(?:publier|laisser) un commentaire\b", _SHORT),
    ("seguici", r"\bseguici su\b", _SHORT),
    ("iscriviti", r"\biscriviti\b", _SHORT),
    # Polish / Dutch
    ("wesprzyj", r"\bwesprzyj\b", _SHORT),
    ("subskrypcji", r"\bzapraszamy (?:też )?do subskrypcji\b", _SHORT),
    ("chroniony", r"\bmateriał chroniony prawem\b", _SHORT),
    ("volg", r"\bvolg ons\b", _SHORT),
)
_PROMPT_RULES: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(pattern), limit) for _, pattern, limit in _PROMPT_SPECS
)
_PROMPT_INDEX: dict[str, tuple[int, ...]] = {}
for _rule_no, _spec in enumerate(_PROMPT_SPECS):
    for _word in _spec[0].split():
        _PROMPT_INDEX[_word] = (*_PROMPT_INDEX.get(_word, ()), _rule_no)
_PROMPT_KEYS = frozenset(_PROMPT_INDEX)
_TOKEN_RE = re.compile(r"\w+")

_DISCLAIMER_HEAD_RE = re.compile(
    r"^(?:post\ )?disclaimer\b|^haftungsausschluss\b|^aviso\ legal\b", re.I | re.X
)

# Meta lines: dates, categories, tags, update stamps — short lines only.
_META_LINE_RE = re.compile(
    r"""^(?:
        (?:published|posted|updated|last\ updated|last\ modified|modified|created|release\ date|date|filed\ under|
           categories|category|tags?|topics?|keywords|
           veröffentlicht(?:\ am)?|aktualisiert(?:\ am)?|letzte\ (?:änderung|aktualisierung)|erstellt(?:\ am)?|stand|kategorie|kategorien|schlagworte|schlagwörter|themen|
           publicado|actualizado|fecha|categoría|etiquetas|temas|
           publié(?:\ le)?|mis\ à\ jour(?:\ le)?|catégorie|
           pubblicato|aggiornato|categoria|
           opublikowano|aktualizacja|kategoria|tagi)
        \s*(?::|\bon\b|\bam\b|\ble\b|\s\d)
    )""",
    re.X | re.I,
)
_META_MAX_WORDS = 14

# Captions and credits.
_AGENCIES = (
    r"AFP|AP|Reuters|REUTERS|EPA|EPA-EFE|EFE|Getty\ Images|Getty|Shutterstock|dpa|DPA|picture[- ]alliance|"
    r"Anadolu(?:\ Agency)?|Xinhua|Sputnik|TASS|ТАСС|РИА\ Новости|RIA\ Novosti|PAP|Agencja\ Gazeta|iStock(?:photo)?|"
    r"Imago|IMAGO|Keystone|ANSA|Bloomberg|Alamy|Unsplash|Pixabay|Wikimedia\ Commons|Wikipedia|PA\ Images|PA|"
    r"NurPhoto|SOPA\ Images|ZUMA(?:\ Press)?|Pool|POOL|Handout|HANDOUT|AAP|Kyodo|Yonhap|KCNA|Belga|ANP|NTB|TT|"
    r"Ritzau|Lusa|ABACA|Abaca|SIPA|Sipa|Hans\ Lucas|Bestimage|Agencia|Associated\ Press|Press\ Association|"
    r"Flickr|Creative\ Commons|CC\ BY(?:-SA)?"
)
_COPYRIGHT_START_RE = re.compile(r"^[\s(\[]*(?:©|\(c\)\s|copyright\b)", re.I)
_CREDIT_BY_START_RE = re.compile(
    r"^[\s(\[]*(?:photo|photos|picture|pictures|image|images|foto|fotos|bild|bilder|video|illustration)\s+(?:by|von|de)\s",
    re.I,
)
_CAPTION_START_RE = re.compile(
    r"""^[\s(\[]*(?:
        (?:photo|photos|photograph|picture|pictures|pic|image|images|img|illustration|graphic|video|
           credit|credits|photo\ credit|image\ credit|image\ source|picture\ credit|source\ image|
           foto|fotos|fot\.|bild|bilder|bildquelle|bildnachweis|titelbild|beitragsbild|headerbild|titelfoto|quelle\ bild|
           crédit|crédits|crédit\ photo|crédits\ photos?|photo\ d'illustration|illustration|image\ illustrative|
           imagen|imágenes|fuente\ de\ la\ imagen|créditos|
           immagine|foto\ di|
           zdjęcie|źródło\ zdjęcia|
           фото|источник\ фото)\s*(?::|：|/|\|)
    )""",
    re.X | re.I,
)
# A credit that closes a caption: "(Photo by X / AFP)", "Photo: AFP / X", "© AFP / X", "(Foto: X/Reuters)."
_AGENCY_CREDIT_START_RE = re.compile(r"^[\s(\[]*(?:©|\(c\)|copyright)\s*(?:" + _AGENCIES + r")\b", re.X)
_CAPTION_END_RE = re.compile(
    r"""(?:
        \(\s*(?:photo|photos|foto|fotos|picture|image|imagen|bild|credit|crédit|photograph|file\ photo|illustration|fot\.)
            \b[^()]{0,120}\)\s*\.?\s*$
      | (?:^|[.!?)”"]\s+|\s)(?:photo|photos|photograph|photography|foto|fotos|picture|image|imagen|bild|credit|crédit|fot\.)\s*(?:by\ |:|：)\s*[^.!?:]{2,80}$
      | ©\s*[^.!?():]{2,80}$
      | \((?:\s*[\w.'’ -]{2,60}\s*/\s*)(?:"""
    + _AGENCIES
    + r""")(?:\s*/\s*[\w.'’ -]{2,60})?\s*\)\s*\.?\s*$
      | \((?:"""
    + _AGENCIES
    + r""")\s*/\s*[\w.'’ -]{2,60}\)\s*\.?\s*$
      | \bvia\ (?:getty\ images|reuters|afp|ap|sputnik|imago|shutterstock)\)?\s*\.?\s*$
      | (?:^|\s)(?:[A-Z][\w.'’-]+\ ){1,3}/\s*(?:"""
    + _AGENCIES
    + r""")\s*$
    )""",
    re.X | re.I,
)
# "<caption> - Site Name, 1920, 22.09.2021": a caption stamped with a site and a numeric date.
_CAPTION_STAMP_RE = re.compile(
    r"\s[-–—|]\s*[^\s,][^,]{1,60}(?:,\s*\d{2,4})?,\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*$"
)
_EDITORIAL_USE_RE = re.compile(
    r"\beditorial\ use\ only\b|\bno\ (?:archive|archives|sales|commercial\ use)\b|\bhandout\ (?:photo|picture|image)\b"
    r"|\b(?:in\ )?this\ (?:\w+\ ){0,6}(?:file\ )?(?:photo|picture|image)\b[^.]{0,80}(?:,|\bshows\b)",
    re.X | re.I,
)
# "(L to R) ...", "From left: ..." open a caption that names the people in a photo
_LEFT_TO_RIGHT_RE = re.compile(
    r"^\(?(?:l\ to\ r|l-r|from\ left|left\ to\ right|von\ links)\b\)?", re.X | re.I
)
_FIGURE_RE = re.compile(
    r"^(?:figure|fig\.|abbildung|abb\.|grafik|graphic|chart|gráfico|tabelle)\s*\d+\s*[:.]", re.I
)
_TRAILING_BYLINE_CREDIT_RE = re.compile(r"[.!?]\s+By\s+(?:[A-Z][A-Z.'’&-]+\s?){2,8}$")

# Lines like "* A terrorist group outlawed in ..." are editorial notes: kept (they are not UI).

_LIST_MARK_CHARS = frozenset("-–—•·*▪►▸>»")
_LIST_MARK_RE = re.compile(r"^\s*(?:[-–—•·*▪►▸>»]+|\d{1,2}[.)])\s+")
_EDGE_PUNCT = " \t\u00a0|:;,.!?·•-–—»«›‹<>()[]{}*#\"'“”‘’/\\+=~"
_TERMINAL_RE = re.compile(r"[.!?…。！？]['\"”’»)\]]*\s*$")
_HEADLINE_END_BAD_RE = re.compile(r"[.,;:]\s*$")
_COUNTER_RE = re.compile(r"^\d{1,4}$")

# Scripts, for "a line in another script than the article".
_SCRIPT_RES: dict[str, re.Pattern[str]] = {
    "latin": re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]"),
    "cyrillic": re.compile(r"[\u0400-\u04ff\u0500-\u052f]"),
    "greek": re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]"),
    "arabic": re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]"),
    "hebrew": re.compile(r"[\u0590-\u05ff]"),
    "cjk": re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"),
    "devanagari": re.compile(r"[\u0900-\u097f]"),
    "bengali": re.compile(r"[\u0980-\u09ff]"),
    "thai": re.compile(r"[\u0e00-\u0e7f]"),
    "georgian": re.compile(r"[\u10a0-\u10ff]"),
    "armenian": re.compile(r"[\u0530-\u058f]"),
}
_LANG_SCRIPT = {
    **dict.fromkeys(
        _words(
            "en de fr es it pt nl sv da no nb nn fi et lv lt pl cs sk sl hr bs sq ro hu tr az uz id ms tl vi ca eu gl ga cy is mt af sw ha yo ig zu xh so lb fy eo la oc br"
        ),
        "latin",
    ),
    **dict.fromkeys(_words("ru uk be bg mk sr kk ky tg mn"), "cyrillic"),
    "el": "greek",
    **dict.fromkeys(_words("ar fa ur ps ug ku sd"), "arabic"),
    **dict.fromkeys(_words("he yi"), "hebrew"),
    **dict.fromkeys(_words("zh ja ko"), "cjk"),
    **dict.fromkeys(_words("hi mr ne sa"), "devanagari"),
    **dict.fromkeys(_words("bn as"), "bengali"),
    "th": "thai",
    "ka": "georgian",
    "hy": "armenian",
}
_LATIN_WORD_CHARS = re.compile(r"[A-Za-z]")
_CYR_WORD_CHARS = re.compile(r"[\u0400-\u04ff]")
_WORD_RE = re.compile(r"\S+")
_LETTER_RUN_RE = re.compile(r"[^\W\d_]+")
_NON_LATIN_LETTER_RE = re.compile(r"[^\W\d_A-Za-z\u00aa\u00b5\u00ba\u00c0-\u024f\u1e00-\u1eff]")
_SCRIPT_RUN_RES = {name: re.compile(rx.pattern + "+") for name, rx in _SCRIPT_RES.items()}


# --------------------------------------------------------------------------------------------
# line model
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Line:
    text: str  # stripped
    norm: str  # lower-cased, whitespace collapsed, list marker and edge punctuation removed
    words: int
    blank_before: bool  # a blank line separated it from the previous line
    removed: str | None = None  # reason, for debugging and tests
    replacement: str | None = None  # the line with a trailing credit cut off
    flags: set[str] = field(default_factory=set)


def _normalise(text: str) -> str:
    if text[:1] in _LIST_MARK_CHARS or text[:1].isdigit():
        text = _LIST_MARK_RE.sub("", text)
    return " ".join(text.split()).strip(_EDGE_PUNCT).lower()


def looks_like_sentence(text: str) -> bool:
    """A line that reads as prose: ends with terminal punctuation and has several words."""
    return _TERMINAL_RE.search(text) is not None and len(text.split()) >= 6


def is_headline_like(text: str) -> bool:
    """A short title-like line: 3–25 words, starts with a capital/quote/digit, no closing
    period, comma or colon. Story sub-headings look like this too, so it is only used together
    with structural evidence (a related heading, a teaser card, repetition)."""
    stripped = _LIST_MARK_RE.sub("", text.strip())
    words = stripped.split()
    if not 3 <= len(words) <= 25 or len(stripped) > 220:
        return False
    if _HEADLINE_END_BAD_RE.search(stripped):
        return False
    first = stripped[0]
    return first.isupper() or first.isdigit() or first in "\"'“‘«¿¡"


def _is_label(text: str) -> bool:
    """A section label such as "World" or "Editor's choice": 1–3 words, no punctuation at the end."""
    stripped = text.strip()
    words = stripped.split()
    if not 1 <= len(words) <= 3 or len(stripped) > 32:
        return False
    if _TERMINAL_RE.search(stripped) or stripped.endswith((",", ";", ":")):
        return False
    return stripped[0].isupper() and not any(ch.isdigit() for ch in stripped)


_CREDIT_TRIGGERS = _words(
    "photo photos foto fotos picture image imagen bild credit crédit fot photograph illustration via getty reuters afp ap epa dpa"
)
_EDITORIAL_TRIGGERS = _words("editorial archive archives handout commercial sales photo picture image")
_TAIL = 220
_QUOTE_OPENERS = frozenset("\"“„«‘‚'»")


def is_caption_line(text: str) -> bool:
    """Photo captions and credit lines (start or end with a credit, or a dated site stamp)."""
    stripped = text.strip()
    return _caption_kind(stripped, _TOKEN_RE.findall(stripped.lower())) is not None


def _caption_kind(text: str, tokens: list[str]) -> str | None:
    """``stamp`` / ``credit`` / ``caption`` / ``figure`` for caption-like lines, else None."""
    words = text.count(" ") + 1
    if words > 120:
        return None
    tail = text[-_TAIL:]
    if tail[-1:].isdigit() and _CAPTION_STAMP_RE.search(tail):
        return "stamp"
    if _CAPTION_START_RE.match(text):
        return "credit"
    if _COPYRIGHT_START_RE.match(text) and (words <= 40 or _AGENCY_CREDIT_START_RE.match(text)):
        # a long line opening with "©" is a caption only when an agency credit follows;
        # press releases sometimes open their first paragraph with "© Company"
        return "credit"
    if words <= 12 and _CREDIT_BY_START_RE.match(text):
        return "credit"
    if words <= 80 and text[:1] in "(LlFfVv" and _LEFT_TO_RIGHT_RE.match(text):
        return "caption"
    if (
        words <= 80
        and not _EDITORIAL_TRIGGERS.isdisjoint(tokens)
        and not text.startswith(("“", '"', "„", "«"))
        and _EDITORIAL_USE_RE.search(text)
    ):
        return "caption"
    end = tail[-100:]
    if ("©" in end or "/" in end or not _CREDIT_TRIGGERS.isdisjoint(tokens)) and _CAPTION_END_RE.search(tail):
        return "trailing_credit"
    if words <= 60 and text[:1] in "FfAaGgCcTt" and _FIGURE_RE.match(text):
        return "figure"
    if words <= 60 and "By " in tail and _TRAILING_BYLINE_CREDIT_RE.search(tail):
        return "credit"
    return None


def _cut_trailing_credit(text: str) -> str | None:
    """The line without its closing credit, or None when nothing sensible is left."""
    tail_start = max(0, len(text) - _TAIL)
    match = _CAPTION_END_RE.search(text, tail_start)
    if not match:
        return None
    kept = text[: match.start()].rstrip(" -–—|/")
    return kept if len(kept.split()) >= 8 else None


def _letters(text: str, script: str | None = None) -> int:
    """Number of letters in ``text`` (of one script when given)."""
    rx = _SCRIPT_RUN_RES[script] if script else _LETTER_RUN_RE
    return sum(map(len, rx.findall(text)))


def _document_script(text: str, language: str | None) -> str | None:
    """The article's script: from its language when known, else the most frequent one."""
    total = _letters(text)
    if not total:
        return None
    hinted = _LANG_SCRIPT.get(language.split("-")[0].lower()) if language else None
    if hinted and _letters(text, hinted) >= 0.4 * total:
        return hinted  # a declared language is trusted only when the text agrees
    if _letters(text, "latin") >= 0.5 * total:
        return "latin"
    return max(_SCRIPT_RUN_RES, key=lambda name: _letters(text, name))


def _homoglyph_words(text: str) -> int:
    """Words mixing Latin and Cyrillic letters ("Yоur") — obfuscated ad copy, never prose."""
    return sum(
        1
        for word in _WORD_RE.findall(text)
        if _LATIN_WORD_CHARS.search(word) and _CYR_WORD_CHARS.search(word)
    )


# --------------------------------------------------------------------------------------------
# rules
# --------------------------------------------------------------------------------------------


def _prompt_hit(low: str, tokens: list[str], words: int) -> bool:
    triggered = _PROMPT_KEYS.intersection(tokens)
    if not triggered:
        return False
    rules: set[int] = set()
    for token in triggered:
        rules.update(_PROMPT_INDEX[token])
    for rule_no in rules:
        pattern, limit = _PROMPT_RULES[rule_no]
        if words <= limit and pattern.search(low):
            return True
    return False


def _line_rule(line: _Line, title_norm: str | None) -> str | None:
    """Rules that judge one line on its own; returns a removal reason or None."""
    text, norm, words = line.text, line.norm, line.words
    if not norm:
        # only punctuation/symbols, e.g. "|", "•", "***"
        return None if any(c.isalnum() for c in text) else "symbols"
    if words <= 6 and norm in _UI_LINES:
        return "ui"
    if words == 1 and _COUNTER_RE.match(text):
        return "counter"
    if words <= 12 and not text.endswith(".") and _RELATED_HEADING_RE.match(norm):
        line.flags.add("related_heading")
        return "related_heading"
    if words <= 45 and (lead := _LEADIN_RE.match(text)):
        rest = text[lead.end() :].strip()
        if rest and len(rest.split()) <= 30:
            return "read_more"
    low = text.lower()
    tokens = _TOKEN_RE.findall(low)
    kind = _caption_kind(text, tokens)
    if kind:
        if kind == "trailing_credit" and words > 50:
            # a long paragraph with a credit glued to its end: keep the paragraph
            line.replacement = _cut_trailing_credit(text)
            return None if line.replacement else "caption"
        line.flags.add(kind)
        line.flags.add("caption")
        return "caption"
    if not (words >= 8 and text[:1] in _QUOTE_OPENERS) and _prompt_hit(low, tokens, words):
        # (a line opening with a quotation mark is someone's speech, not the site's prompt)
        return "prompt"
    if words <= 40 and _DISCLAIMER_HEAD_RE.match(norm):
        return "disclaimer"
    if words <= _META_MAX_WORDS and not text.startswith("|") and (meta := _META_LINE_RE.match(norm)):
        line.flags.add("meta:" + meta.group(0)[:12])
        return "meta"
    if title_norm and norm == title_norm:
        return "title_echo"
    if words >= 3 and _CYR_WORD_CHARS.search(text) and _homoglyph_words(text) >= 3:
        return "homoglyph"
    return None


def _teaser_cards(lines: list[_Line], body_start: int) -> None:
    """A dated caption stamp inside the story, then an optional label, then a headline:
    an inline card promoting another article. The card's headline goes with the caption."""
    for pos, line in enumerate(lines):
        if "stamp" not in line.flags or pos < body_start:
            continue
        nxt = pos + 1
        if nxt < len(lines) and _is_label(lines[nxt].text) and lines[nxt].words <= 3:
            candidate = nxt + 1
            if candidate < len(lines) and is_headline_like(lines[candidate].text):
                lines[nxt].removed = lines[nxt].removed or "teaser_label"
                lines[candidate].removed = lines[candidate].removed or "teaser_headline"
            continue
        if (
            nxt < len(lines)
            and lines[nxt].removed is None
            and is_headline_like(lines[nxt].text)
            and not looks_like_sentence(lines[nxt].text)
        ):
            lines[nxt].removed = "teaser_headline"


def _related_blocks(lines: list[_Line], counts: dict[str, int]) -> None:
    """After a "related/popular/editor's choice" heading, drop the teaser list that follows.

    A block keeps one style: either list items, or headlines (labels, repeated lines and one
    sentence-like blurb per headline). It ends at the first line that breaks the style, so
    a story section that resumes after the list (a sub-heading, then paragraphs) survives.
    """
    n = len(lines)
    pos = 0
    while pos < n:
        if "related_heading" not in lines[pos].flags:
            pos += 1
            continue
        consumed: list[int] = []
        style: str | None = None
        after_headline = False
        cursor = pos + 1
        while cursor < n:
            cur = lines[cursor]
            text = cur.text
            is_item = _LIST_MARK_RE.match(text) is not None and cur.words <= 30
            repeated = counts.get(cur.norm, 0) > 1 and len(cur.norm) >= 12
            headline = repeated or (is_headline_like(text) and not looks_like_sentence(text))
            if (
                "related_heading" in cur.flags
                or cur.removed
                or (_is_label(text) and cur.words <= 3 and style != "list")
            ):
                after_headline = False
            elif is_item and style in (None, "list"):
                style = "list"
            elif headline and not is_item and style in (None, "headlines"):
                style = "headlines"
                after_headline = True
            elif after_headline and cur.words <= 250 and looks_like_sentence(text):
                after_headline = False  # the blurb under a teaser headline
            else:
                break
            consumed.append(cursor)
            cursor += 1
        if style is not None:
            for idx in consumed:
                lines[idx].removed = lines[idx].removed or "related_block"
        pos = cursor if style is not None else pos + 1


def _teaser_pairs(lines: list[_Line]) -> None:
    """A headline printed twice in a row (link text + title) is a teaser card for another
    article: drop both copies, the section labels just above and the blurb just below when
    the blurb ends the card (next comes another card, a heading or the end)."""
    n = len(lines)
    for pos in range(n - 1):
        line, twin = lines[pos], lines[pos + 1]
        if line.norm != twin.norm or len(line.norm) < 12 or not is_headline_like(line.text):
            continue
        line.removed = line.removed or "teaser_pair"
        twin.removed = twin.removed or "teaser_pair"
        back = pos - 1
        while back >= 0 and pos - back <= 2 and (lines[back].removed or _is_label(lines[back].text)):
            if not lines[back].removed:
                lines[back].removed = "teaser_label"
            back -= 1
        blurb = pos + 2
        if (
            blurb < n
            and lines[blurb].removed is None
            and lines[blurb].words <= 120
            and looks_like_sentence(lines[blurb].text)
        ):
            after = blurb + 1
            ends_card = (
                after >= n
                or lines[after].removed is not None
                or _is_label(lines[after].text)
                or (after + 1 < n and lines[after].norm == lines[after + 1].norm)
            )
            if ends_card:
                lines[blurb].removed = "teaser_blurb"


def _later_duplicates(lines: list[_Line]) -> None:
    """Drop repeated copies of a long line (teaser headlines and blurbs printed twice);
    the first copy stays, so a quote repeated as a pull quote never loses its text."""
    seen: set[str] = set()
    for line in lines:
        if len(line.norm) < 40 or _LIST_MARK_RE.match(line.text):
            continue
        if line.norm in seen:
            line.removed = line.removed or "duplicate"
        else:
            seen.add(line.norm)


_PROSE_END_RE = re.compile(r"[.…。]['\"”’»)\]]*\s*$")


def _is_prose(line: _Line) -> bool:
    """A story paragraph, not a headline: a short question or exclamation ("Can you become
    immune?") reads like a teaser headline, so it counts only when it is long."""
    if line.words < 8 or not looks_like_sentence(line.text):
        return False
    return line.words >= 15 or _PROSE_END_RE.search(line.text) is not None


def _last_prose(lines: list[_Line]) -> int:
    for pos in range(len(lines) - 1, -1, -1):
        if lines[pos].removed is None and _is_prose(lines[pos]):
            return pos
    return -1


def _body_start(lines: list[_Line]) -> int:
    """Index of the first prose paragraph (captions and widgets usually sit above it)."""
    for pos, line in enumerate(lines):
        if line.removed is None and line.words >= 12 and _is_prose(line):
            return pos
    return len(lines)


def _foreign_lines(
    lines: list[_Line], text: str, language: str | None, body_start: int, last_prose: int
) -> None:
    """Short lines in another script than the article, outside the story (above its first
    or after its last paragraph), when that script is rare in the document. Quotes or names
    in another script inside the story, and bilingual pages, are left alone."""
    candidates = [
        line
        for pos, line in enumerate(lines)
        if line.removed is None and line.words <= 10 and not body_start <= pos <= last_prose
    ]
    if not candidates or text.isascii():
        return
    if not any(_NON_LATIN_LETTER_RE.search(line.text) for line in candidates) and not (
        _NON_LATIN_LETTER_RE.search(text, 0, 3000)
    ):
        return  # Latin lines around a Latin article: nothing to compare (the common case)
    sample = _spread_sample(text)
    dominant = _document_script(sample, language)
    if dominant is None:
        return
    letters_in_sample = _letters(sample) or 1
    if _letters(sample, dominant) < 0.9 * letters_in_sample:
        return  # a bilingual or mixed-script page: leave it alone
    for line in candidates:
        if dominant == "latin" and line.text.isascii():
            continue
        letters = _letters(line.text)
        if letters >= 3 and _letters(line.text, dominant) <= 0.2 * letters:
            line.removed = "script"


def _spread_sample(text: str, size: int = 4000) -> str:
    """Start, middle and end of a long text: enough to judge its scripts, cheap to scan."""
    if len(text) <= size:
        return text
    third = size // 3
    mid = len(text) // 2
    return f"{text[:third]} {text[mid : mid + third]} {text[-third:]}"


def _trailing_residue(lines: list[_Line], last_prose: int) -> None:
    """After the last prose paragraph of a dump, what is not prose is furniture: widget
    labels, tag lists, navigation, teaser headlines (a story does not end on a heading)."""
    if last_prose < 0:
        return
    for line in lines[last_prose + 1 :]:
        if line.removed is None and line.words <= 25 and not _is_prose(line):
            line.removed = "trailing_residue"


_MENU_RUN = 4  # consecutive one-to-four-word lines above the story: a navigation menu


def _top_menu(lines: list[_Line], body_start: int) -> None:
    """Runs of very short lines above the first paragraph of a dump are menus and tag bars."""
    run: list[_Line] = []
    for line in [*lines[:body_start], None]:
        if line is not None and line.words <= 4 and not looks_like_sentence(line.text):
            run.append(line)
            continue
        if len(run) >= _MENU_RUN:
            for item in run:
                item.removed = item.removed or "menu"
        run = []


_MORE_LINKS = _vocab(
    """
    read more|more|continue reading|full story|full article|weiterlesen|mehr|leer más|lire la suite
    leggi di più|leia mais|czytaj więcej|lees meer|читать далее
    """
)


_CAPTION_LABELS = _vocab(
    "image caption|media caption|photo caption|video caption|caption|bildunterschrift|legende"
)
_CREDIT_LABELS = _vocab(
    "image copyright|image source|copyright|photo credit|image credit|bildquelle|fotoquelle"
)


def _caption_labels(lines: list[_Line]) -> None:
    """ "Image caption" / "Image copyright" labels announce the next line as a caption or a
    credit: drop the label and what it labels."""
    for pos, line in enumerate(lines):
        if line.norm in _CAPTION_LABELS:
            limit = 50
        elif line.norm in _CREDIT_LABELS:
            limit = 5
        else:
            continue
        line.removed = line.removed or "caption_label"
        if pos + 1 < len(lines) and lines[pos + 1].words <= limit:
            lines[pos + 1].removed = lines[pos + 1].removed or "caption"


def _read_more_teasers(lines: list[_Line]) -> None:
    """A headline directly followed by a lone "Read more" link is a teaser for another page."""
    for pos in range(1, len(lines)):
        line, prev = lines[pos], lines[pos - 1]
        if (
            line.norm in _MORE_LINKS
            and prev.removed is None
            and is_headline_like(prev.text)
            and not looks_like_sentence(prev.text)
        ):
            prev.removed = "teaser_headline"


def _build_lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    blank = False
    for raw in text.split("\n"):
        stripped = raw.strip()
        if not stripped:
            blank = True
            continue
        lines.append(_Line(stripped, _normalise(stripped), stripped.count(" ") + 1, blank and bool(lines)))
        blank = False
    return lines


def _classify(text: str, title: str | None, language: str | None, text_mode: bool) -> list[_Line]:
    lines = _build_lines(text)
    if not lines:
        return lines
    # a body line repeating the title is an echo in a text dump; on HTML pages trafilatura's
    # text may legitimately open with the headline, so it stays there
    title_norm = _normalise(title) if title and text_mode else None
    counts: dict[str, int] = {}
    meta_keys: dict[str, int] = {}
    for line in lines:
        counts[line.norm] = counts.get(line.norm, 0) + 1
        line.removed = _line_rule(line, title_norm)
        for flag in line.flags:
            if flag.startswith("meta:"):
                meta_keys[flag] = meta_keys.get(flag, 0) + 1
    if any(count > 2 for count in meta_keys.values()):
        # "Category: ..." three times is the page's own structure (a list of awards,
        # products, fixtures), not a stray stamp: keep those lines
        for line in lines:
            if line.removed == "meta" and any(meta_keys.get(f, 0) > 2 for f in line.flags):
                line.removed = None

    body_start = _body_start(lines)
    last_prose = _last_prose(lines)
    _foreign_lines(lines, text, language, body_start, last_prose)
    _teaser_cards(lines, body_start + 1)
    _related_blocks(lines, counts)
    _teaser_pairs(lines)
    _read_more_teasers(lines)
    _caption_labels(lines)
    if text_mode:
        _later_duplicates(lines)
        _top_menu(lines, _body_start(lines))
        _trailing_residue(lines, _last_prose(lines))
    return lines


def _prepare(text: str) -> str:
    # only NUL goes here: clean_text returns lines of its input; the extractors strip the
    # other control characters from what they hand over (see extractors.normalize.text.strip_controls)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return unicodedata.normalize("NFC", text)


class LineVerdict(NamedTuple):
    """One non-blank input line and what the cleaner decided about it."""

    text: str  # the line as found (stripped)
    reason: str | None  # why it is boilerplate; None when kept
    kept_text: str  # what is kept (a long paragraph may lose a glued-on photo credit)
    blank_before: bool  # the input had a blank line before it


def classify(
    text: str, *, title: str | None = None, language: str | None = None, text_mode: bool = False
) -> list[LineVerdict]:
    """Judge every non-blank line of ``text``, in order.

    ``text_mode`` adds the cues that only plain-text dumps need (a body line repeating the
    title, widget leftovers after the last paragraph); the HTML path relies on trafilatura
    for page structure.
    """
    return [
        LineVerdict(line.text, line.removed, line.replacement or line.text, line.blank_before)
        for line in _classify(_prepare(text), title, language, text_mode)
    ]


def clean_paragraphs(
    text: str, *, title: str | None = None, language: str | None = None, text_mode: bool = False
) -> list[tuple[str, bool]]:
    """Kept lines as ``(line, blank_line_before)`` — for callers that re-assemble paragraphs."""
    out: list[tuple[str, bool]] = []
    pending_blank = False
    for verdict in classify(text, title=title, language=language, text_mode=text_mode):
        pending_blank = pending_blank or verdict.blank_before
        if verdict.reason:
            continue
        out.append((verdict.kept_text, pending_blank and bool(out)))
        pending_blank = False
    return out


def caption_stamp_date(text: str) -> tuple[int, int, int] | None:
    """``(day, month, year)`` of a caption stamped "… - Site, 1920, 22.09.2021", else None."""
    match = _CAPTION_STAMP_RE.search(text.strip()[-_TAIL:])
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    return day, month, year


def clean_text(
    text: str, *, title: str | None = None, language: str | None = None, text_mode: bool = False
) -> str:
    """Remove boilerplate lines from ``text`` and return the rest with its line structure.

    Lines are kept whole and in order; a blank line is kept where the input had one (runs of
    blank lines collapse to one), so single- and double-newline paragraph styles survive.
    """
    if not text or not text.strip():
        return ""
    parts: list[str] = []
    for line, blank_before in clean_paragraphs(text, title=title, language=language, text_mode=text_mode):
        if blank_before:
            parts.append("")
        parts.append(line)
    return "\n".join(parts)
