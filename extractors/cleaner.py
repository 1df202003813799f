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

__all__ = ["clean_lines", "clean_text", "is_caption_line", "is_headline_like", "looks_like_sentence"]

# --------------------------------------------------------------------------------------------
# vocabulary (multilingual, lower-case; matched against normalised lines)
# --------------------------------------------------------------------------------------------

# Whole-line interface strings: buttons, counters, widget titles. Compared after lower-casing
# and trimming decoration, so "Share:" and "» More" match too.
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
_RELATED_HEADING_RE = re.compile(
    r"""^(?:
        (?:more\ )?related(?:\ (?:articles?|stories|posts?|content|news|coverage|topics|reading|links|items))?
      | (?:most\ )?popular(?:\ (?:now|today|stories|posts|articles|news|this\ week))?
      | most\ (?:read|viewed|shared|commented|emailed|recent|watched)(?:\ (?:stories|articles|news|today|this\ week))?
      | editor'?s?'?\ (?:choice|choices|picks?|selection|recommendations?)
      | editors'\ (?:choice|picks?)
      | recommended(?:\ (?:for\ you|stories|articles|reading|posts|videos?))?
      | you\ (?:may|might|could)\ also\ (?:like|enjoy|be\ interested\ in|want\ to\ read)
      | (?:also\ )?(?:trending|in\ case\ you\ missed\ it|don'?t\ miss|must\ read|read\ next|up\ next|what\ to\ read\ next|further\ reading|more\ stories|more\ news|more\ to\ read|more\ from\ [\w .'’&-]{2,40}|more\ on\ this\ (?:topic|story)|more\ in\ [\w .'’&-]{2,30}|top\ stories|latest\ (?:news|stories|posts|articles|headlines)|other\ (?:news|stories)|similar\ (?:articles|posts|stories)|see\ also|also\ on\ [\w .'’&-]{2,30}|related\ posts?|popular\ posts?|recent\ posts?|recent\ comments|latest\ comments|trending\ now|trending\ stories)
      | (?:auch\ interessant|das\ könnte\ (?:sie|dich)\ auch\ interessieren|(?:das\ thema\ )?könnte\ (?:sie|dich)\ auch\ interessieren|weitere\ (?:themen|artikel|beiträge|nachrichten|meldungen|news|informationen\ zum\ thema)(?:\ zum\ thema)?(?:\ aus\ [\w .'’&-]{2,40})?|mehr\ (?:zum\ thema|themen|artikel|nachrichten|aus\ [\w .'’&-]{2,40})|empfohlene\ (?:beiträge|artikel)|ähnliche\ (?:beiträge|artikel)|verwandte\ (?:beiträge|artikel|themen)|beliebte\ (?:beiträge|artikel)|meistgelesen(?:e\ artikel)?|meist\ gelesen|top-?themen|zum\ weiterlesen|lesen\ sie\ auch|schon\ gelesen|neueste\ (?:beiträge|kommentare|artikel)|letzte\ (?:beiträge|kommentare)|aktuelle\ (?:beiträge|artikel))
      | (?:notas?\ relacionadas?|noticias\ relacionadas|contenido\ relacionado|artículos\ relacionados|te\ puede\ interesar|le\ puede\ interesar|también\ te\ puede\ interesar|lo\ más\ (?:leído|visto)|más\ leídas?|más\ noticias|más\ sobre\ [\w .'’&-]{2,40}|te\ recomendamos|recomendados)
      | (?:articles?\ (?:similaires|liés|connexes)|sur\ le\ même\ sujet|à\ lire\ aussi|a\ lire\ aussi|lire\ aussi|les\ plus\ lus|les\ plus\ populaires|voir\ aussi|nos\ dernières\ actualités|dans\ la\ même\ rubrique)
      | (?:articoli\ correlati|potrebbe\ interessarti|leggi\ anche|i\ più\ letti|notizie\ correlate)
      | (?:leia\ também|notícias\ relacionadas|veja\ também|mais\ lidas|relacionadas)
      | (?:czytaj\ (?:też|także)|polecane|najczęściej\ czytane|zobacz\ (?:też|także)|powiązane\ artykuły)
      | (?:gerelateerde\ artikelen|lees\ ook|meest\ gelezen)
      | (?:читайте\ также|по\ теме|самое\ читаемое|популярное)
    )[\s:.!?»›>|–—-]*$""",
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

# Calls to action, account and comment prompts, consent/ad notices. Searched anywhere in a
# *short* line (see _PROMPT_MAX_WORDS); each alternative is specific enough on its own.
_PROMPT_RE = re.compile(
    r"""(?:
        \bspread\ the\ love\b
      | \blog\ ?in\ or\ (?:register|sign\ up)\b | \bsign\ in\ or\ register\b
      | \bto\ participate\ in\ the\ discussion\b | \bjoin\ the\ (?:discussion|conversation)\b
      | \bleave\ a\ (?:reply|comment)\b | \bpost\ a\ comment\b | \bpost\ your\ comment\b
      | \byour\ email\ address\ will\ not\ be\ published\b | \brequired\ fields\ are\ marked\b
      | \bcomments\ are\ (?:moderated|closed)\b | \bcommenting\ (?:is\ )?(?:disabled|closed)\b
      | \byou\ must\ be\ logged\ in\b | \bplease\ log\ ?in\b | \blog\ ?in\ (?:here\ )?to\ (?:comment|leave|reply|post|continue|read)\b
      | \bbe\ the\ first\ to\ comment\b | \bno\ comments\ yet\b | \bcomment\ by\b | \b\d+\ comments?\b\s*$
      | \b(?:we|this\ (?:site|website))\ uses?\ cookies\b | \bcookie\ (?:policy|settings|preferences|consent)\b
      | \bby\ (?:continuing|using)\ (?:to\ (?:use|browse)\ )?(?:this|our)\ (?:site|website)\b
      | \bwe\ use\ your\ sign-?up\b | \byou\ can\ unsubscribe\ at\ any\ time\b | \bunsubscribe\ at\ any\ time\b
      | \bconsented\ to\b | \bprivacy\ (?:policy|notice)\b.*\b(?:agree|accept|consent|read)\b
      | \bsubscribe\ (?:now|today|here|for|to\ (?:our|the|read|continue|get|receive))\b
      | \bsign\ up\ (?:now|today|here|for|to\ (?:our|get|receive|the))\b | \bsign\ up\ free\b | \bfree\ sign\ up\b
      | \b(?:our|the)\ (?:daily\ |weekly\ |free\ |email\ )*newsletters?\b | \bnewsletter\ (?:sign-?up|anmelden|abonnieren)\b
      | \bget\ (?:our|the)\ [\w' ]{0,40}(?:newsletter|daily\ edition|app|briefing)\b
      | \bnever\ miss\ (?:a|an|our)\b | \bstraight\ to\ your\ inbox\b | \bin\ your\ inbox\b | \bdelivered\ to\ your\ inbox\b
      | \balready\ a\ subscriber\b | \bsubscribers?\ only\b | \bto\ (?:view|read)\ the\ full\ (?:story|article)\b
      | \bfor\ the\ full\ story\b | \bread\ (?:the\ )?full\ (?:article|story)\b | \bsource:\s*read\ full\ article\b
      | \bfollow\ (?:us|[\w.@ ]{1,30})\ on\ (?:twitter|facebook|instagram|linkedin|telegram|tiktok|youtube|x)\b
      | \blike\ us\ on\ facebook\b | \bjoin\ us\ on\b | \bshare\ (?:this|on|via)\b | \bclick\ (?:here|to\ share)\b
      | \bdownload\ (?:the|our)\ [\w ]{0,30}apps?\b | \b(?:app\ store|google\ play)\b
      | \bsupport\ (?:our|independent|quality)\ journalism\b | \b(?:please\ )?consider\ (?:supporting|donating|a\ donation)\b
      | \bbecome\ a\ (?:member|supporter|patron|subscriber)\b | \bdonate\ (?:now|today)\b
      | \bthis\ (?:post|article|page)\ (?:contains|may\ contain|includes)\ (?:affiliate|references\ to\ products|sponsored)\b
      | \bwe\ (?:may\ )?(?:earn|receive)\ (?:a\ )?(?:small\ )?(?:commission|compensation)\b | \baffiliate\ links?\b
      | \badvertis(?:e|ing)\ with\ us\b | \bsponsored\ by\b
      | \ball\ rights\ reserved\b | \bcopyrighted\ property\b | \bwritten\ permission\b.*\b(?:reprint|republish|reproduc)\w*
      | \bmay\ not\ be\ (?:published|broadcast|rewritten|redistributed|reproduced)\b
      | \bviews\ expressed\b.*\b(?:own|necessarily)\b | \bdo\ not\ necessarily\ (?:reflect|represent)\b
      | \bopinions\ expressed\b | \bnot\ necessarily\ (?:those|the\ views)\b
      | \bletters?\ to\ the\ editor\b.*\bsubmit\b | \bsubmit\ (?:your|a)\ letter\b
      # German
      | \bkommentar(?:e)?\ (?:schreiben|verfassen|abgeben|hinzufügen)\b | \bum\ kommentare\ zu\ schreiben\b
      | \bmelden\ sie\ sich\ an\b | \bsie\ müssen\ (?:sich\ )?(?:anmelden|eingeloggt)\b | \bnicht\ eingeloggt\b
      | \bnur\ (?:angemeldete|registrierte)\ (?:benutzer|nutzer|leser)\b | \bkeine\ kommentare\b
      | \bbitte\ registrieren\ sie\ sich\b | \bnetiquette\b
      | \b(?:unseren?|zum|den)\ newsletter\b | \bnewsletter\b.*\b(?:anmelden|abonnieren|bestellen|erhalten\ sie)\b
      | \bjetzt\ (?:abonnieren|anmelden|registrieren|bestellen|kostenlos)\b | \bmelde\ dich\b.*\bnewsletter\b
      | \bfolgen\ sie\ uns\b | \bfolge\ uns\b | \bteilen\ mit\b
      | \b(?:wir|diese\ (?:seite|website))\ (?:verwendet|verwenden|nutzt|nutzen)\ cookies\b
      | \bdatenschutz(?:erklärung|bestimmungen|-\ und\ nutzungsbedingungen)?\b.*\b(?:akzeptier|zustimm|einverstanden)\w*
      | \benthält\ (?:affiliate|werbung)\b | \baffiliate[- ]links?\b | \bwerbung\b.*\b(?:enthält|beitrag)\b
      | \bunterstütze?n?\ (?:uns|unsere\ arbeit)\b
      # Spanish / Portuguese
      | \bsíguenos\ en\b | \bsiguenos\ en\b | \bsuscr[ií]bete\b | \bsuscríbase\b | \bpara\ comentar\b
      | \bdejá\ tu\ comentario\b | \bdeja\ tu\ comentario\b | \bhazte\ (?:miembro|socio)\b | \bcanal\ de\ (?:telegram|youtube|whatsapp)\b
      | \bsiga-nos\b | \bassine\ (?:já|agora)\b | \binscreva-se\b
      # French / Italian
      | \bsuivez-nous\b | \babonnez-vous\b | \bpour\ lire\ la\ suite\b | \bpour\ accéder\ en\ illimité\b
      | \bpublier\ un\ commentaire\b | \blaisser\ un\ commentaire\b | \bseguici\ su\b | \biscriviti\b
      # Polish / Dutch
      | \bwesprzyj\b | \bzapraszamy\ (?:też\ )?do\ subskrypcji\b | \bmateriał\ chroniony\ prawem\b | \bvolg\ ons\b
    )""",
    re.X | re.I,
)
_PROMPT_MAX_WORDS = 45
_PROMPT_MAX_WORDS_STRONG = 90  # consent/disclaimer notices can be long but are never story
_STRONG_PROMPT_RE = re.compile(
    r"""(?:
        \bwe\ use\ your\ sign-?up\b | \bviews\ expressed\b.*\b(?:own|necessarily)\b
      | \bdo\ not\ necessarily\ (?:reflect|represent)\b.*\b(?:views?|opinions?|point[- ]of[- ]view|position)\b
      | \b(?:we|this\ (?:site|website))\ uses?\ cookies\b | \bcopyrighted\ property\b
      | \bthis\ (?:post|article|page)\ (?:contains|may\ contain)\ (?:affiliate|references\ to\ products)\b
    )""",
    re.X | re.I,
)

_DISCLAIMER_HEAD_RE = re.compile(r"^(?:post\ )?disclaimer\b|^haftungsausschluss\b|^aviso\ legal\b", re.I | re.X)

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
        \s*(?:[:|]|\bon\b|\bam\b|\ble\b|\s\d)
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
_CAPTION_START_RE = re.compile(
    r"""^[\s(\[]*(?:
        ©|\(c\)\s|copyright\b|
        (?:photo|photos|photograph|picture|pictures|pic|image|images|img|illustration|graphic|video|
           credit|credits|photo\ credit|image\ credit|image\ source|picture\ credit|source\ image|
           foto|fotos|fot\.|bild|bilder|bildquelle|bildnachweis|titelbild|beitragsbild|headerbild|titelfoto|quelle\ bild|
           crédit|crédits|crédit\ photo|crédits\ photos?|photo\ d'illustration|illustration|image\ illustrative|
           imagen|imágenes|fuente\ de\ la\ imagen|créditos|
           immagine|foto\ di|
           zdjęcie|źródło\ zdjęcia|
           фото|источник\ фото)\s*(?:by\b|von\b|de\b|:|：|/|\|)
    )""",
    re.X | re.I,
)
# A credit that closes a caption: "(Photo by X / AFP)", "Photo: AFP / X", "© AFP / X", "(Foto: X/Reuters)."
_CAPTION_END_RE = re.compile(
    r"""(?:
        \(\s*(?:photo|photos|foto|fotos|picture|image|imagen|bild|credit|crédit|photograph|file\ photo|illustration|fot\.)
            \b[^()]{0,120}\)\s*\.?\s*$
      | (?:^|[.!?)”"]\s+|\s)(?:photo|photos|foto|fotos|picture|image|imagen|bild|credit|crédit|fot\.)\s*(?:by\ |:|：)\s*[^.!?:]{2,80}$
      | ©\s*[^.!?]{2,80}$
      | \((?:\s*[\w.'’ -]{2,60}\s*/\s*)(?:""" + _AGENCIES + r""")(?:\s*/\s*[\w.'’ -]{2,60})?\s*\)\s*\.?\s*$
      | \((?:""" + _AGENCIES + r""")\s*/\s*[\w.'’ -]{2,60}\)\s*\.?\s*$
      | \bvia\ (?:getty\ images|reuters|afp|ap|sputnik|imago|shutterstock)\)?\s*\.?\s*$
      | (?:^|\s)(?:[A-Z][\w.'’-]+\ ){1,3}/\s*(?:""" + _AGENCIES + r""")\s*$
    )""",
    re.X | re.I,
)
# "<caption> - Site Name, 1920, 22.09.2021": a caption stamped with a site and a numeric date.
_CAPTION_STAMP_RE = re.compile(
    r"\s[-–—|]\s*[^\s,][^,]{1,60}(?:,\s*\d{2,4})?,\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*$"
)
_EDITORIAL_USE_RE = re.compile(
    r"\beditorial\ use\ only\b|\bno\ (?:archive|archives|sales|commercial\ use)\b|\bhandout\ (?:photo|picture|image)\b"
    r"|\b(?:in\ )?this\ (?:\w+\ ){0,6}(?:file\ )?(?:photo|picture|image)\b[^.]{0,80}(?:,|\bshows\b)"
    r"|^\(?(?:l\ to\ r|l-r|from\ left|left\ to\ right|von\ links)\b\)?",
    re.X | re.I,
)
_FIGURE_RE = re.compile(r"^(?:figure|fig\.|abbildung|abb\.|grafik|graphic|chart|gráfico|tabelle)\s*\d+\s*[:.]", re.I)
_TRAILING_BYLINE_CREDIT_RE = re.compile(r"[.!?]\s+By\s+(?:[A-Z][A-Z.'’&-]+\s?){2,8}$")

# Lines like "* A terrorist group outlawed in ..." are editorial notes: kept (they are not UI).

_LIST_MARK_RE = re.compile(r"^\s*(?:[-–—•·*▪►▸>»]+|\d{1,2}[.)])\s+")
_EDGE_PUNCT = " \t\u00a0|:;,.!?·•-–—»«›‹<>()[]{}*#\"'“”‘’/\\+=~"
_WS_RE = re.compile(r"\s+")
_TERMINAL_RE = re.compile(r"[.!?…。！？]['\"”’»)\]]*\s*$")
_HEADLINE_END_BAD_RE = re.compile(r"[.,;:]\s*$")
_COUNTER_RE = re.compile(r"^\d{1,4}$")
_SENTENCE_SPLIT_RE = re.compile(r"[.!?…](?:['\"”’»)]*)\s+(?=[\"“‘'«(]?[A-ZÀ-ÖØ-ÞА-ЯЁ0-9])")
_DATE_ONLY_RE = re.compile(
    r"^(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2})(?:[ T,]+\d{1,2}[:.]\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?)?\s*(?:uhr|h)?$",
    re.I,
)

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
        ["en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "no", "nb", "nn", "fi", "et", "lv", "lt", "pl", "cs", "sk", "sl", "hr", "bs", "sq", "ro", "hu", "tr", "az", "uz", "id", "ms", "tl", "vi", "ca", "eu", "gl", "ga", "cy", "is", "mt", "af", "sw", "ha", "yo", "ig", "zu", "xh", "so", "lb", "fy", "eo", "la", "oc", "br"],
        "latin",
    ),
    **dict.fromkeys(["ru", "uk", "be", "bg", "mk", "sr", "kk", "ky", "tg", "mn"], "cyrillic"),
    "el": "greek",
    **dict.fromkeys(["ar", "fa", "ur", "ps", "ug", "ku", "sd"], "arabic"),
    **dict.fromkeys(["he", "yi"], "hebrew"),
    **dict.fromkeys(["zh", "ja", "ko"], "cjk"),
    **dict.fromkeys(["hi", "mr", "ne", "sa"], "devanagari"),
    **dict.fromkeys(["bn", "as"], "bengali"),
    "th": "thai",
    "ka": "georgian",
    "hy": "armenian",
}
_LATIN_WORD_CHARS = re.compile(r"[A-Za-z]")
_CYR_WORD_CHARS = re.compile(r"[\u0400-\u04ff]")
_WORD_RE = re.compile(r"\S+")


# --------------------------------------------------------------------------------------------
# line model
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Line:
    index: int
    text: str  # stripped
    norm: str  # lower-cased, whitespace collapsed, list marker and edge punctuation removed
    words: int
    removed: str | None = None  # reason, for debugging and tests
    flags: set[str] = field(default_factory=set)


def _normalise(text: str) -> str:
    text = _LIST_MARK_RE.sub("", text)
    text = _WS_RE.sub(" ", text).strip(_EDGE_PUNCT)
    return text.lower()


def looks_like_sentence(text: str) -> bool:
    """A line that reads as prose: ends with terminal punctuation and has several words."""
    return len(text.split()) >= 6 and _TERMINAL_RE.search(text) is not None


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


def is_caption_line(text: str) -> bool:
    """Photo captions and credit lines (start or end with a credit, or a dated site stamp)."""
    return _caption_kind(text) is not None


def _caption_kind(text: str) -> str | None:
    stripped = text.strip()
    if not stripped:
        return None
    words = len(stripped.split())
    if words > 120:
        return None
    if _CAPTION_STAMP_RE.search(stripped):
        return "stamp"
    if _CAPTION_START_RE.match(stripped):
        return "credit"
    if _CAPTION_END_RE.search(stripped):
        return "credit"
    if words <= 80 and _EDITORIAL_USE_RE.search(stripped) and not stripped.startswith(("“", '"')):
        return "caption"
    if words <= 60 and _FIGURE_RE.match(stripped):
        return "figure"
    if _TRAILING_BYLINE_CREDIT_RE.search(stripped) and words <= 60:
        return "credit"
    return None


def _dominant_script(text: str, language: str | None) -> tuple[str | None, float]:
    counts = {name: len(rx.findall(text)) for name, rx in _SCRIPT_RES.items()}
    total = sum(counts.values())
    if not total:
        return None, 0.0
    best = max(counts, key=lambda k: counts[k])
    if language:
        hinted = _LANG_SCRIPT.get(language.split("-")[0].lower())
        if hinted and counts.get(hinted, 0) >= 0.5 * total:
            best = hinted
    return best, counts[best] / total


def _foreign_script(text: str, dominant: str) -> bool:
    """True when most letters of ``text`` belong to one script other than ``dominant``."""
    counts = {name: len(rx.findall(text)) for name, rx in _SCRIPT_RES.items()}
    total = sum(counts.values())
    if total < 3:
        return False
    own = counts.get(dominant, 0)
    return own <= 0.2 * total


def _homoglyph_words(text: str) -> int:
    """Words mixing Latin and Cyrillic letters ("Yоur") — obfuscated ad copy, never prose."""
    return sum(
        1
        for word in _WORD_RE.findall(text)
        if _LATIN_WORD_CHARS.search(word) and _CYR_WORD_CHARS.search(word)
    )


def _sentences(text: str) -> int:
    return len(_SENTENCE_SPLIT_RE.split(text.strip()))


# --------------------------------------------------------------------------------------------
# rules
# --------------------------------------------------------------------------------------------


def _line_rule(line: _Line, title_norm: str | None) -> str | None:
    """Rules that judge one line on its own; returns a removal reason or None."""
    text, norm, words = line.text, line.norm, line.words
    if not norm:
        # only punctuation/symbols, e.g. "|", "•", "***"
        return None if any(c.isalnum() for c in text) else "symbols"
    if words <= 6 and norm in _UI_LINES:
        return "ui"
    if words == 1 and _COUNTER_RE.match(norm):
        return "counter"
    if words <= 12 and _RELATED_HEADING_RE.match(norm):
        line.flags.add("related_heading")
        return "related_heading"
    if words <= 45 and _LEADIN_RE.match(text):
        rest = _LEADIN_RE.sub("", text, count=1).strip()
        if rest and len(rest.split()) <= 30:
            return "read_more"
    kind = _caption_kind(text)
    if kind:
        if kind == "stamp":
            line.flags.add("stamp")
        line.flags.add("caption")
        return "caption"
    if words <= _PROMPT_MAX_WORDS and _PROMPT_RE.search(text):
        return "prompt"
    if words <= _PROMPT_MAX_WORDS_STRONG and _STRONG_PROMPT_RE.search(text):
        return "notice"
    if words <= 40 and _DISCLAIMER_HEAD_RE.match(norm):
        return "disclaimer"
    if words <= _META_MAX_WORDS and _META_LINE_RE.match(norm):
        return "meta"
    if title_norm and norm == title_norm:
        return "title_echo"
    if words >= 3 and _homoglyph_words(text) >= 3:
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
        if nxt < len(lines) and lines[nxt].removed is None and is_headline_like(lines[nxt].text) and not looks_like_sentence(lines[nxt].text):
            lines[nxt].removed = "teaser_headline"


def _related_blocks(lines: list[_Line], counts: dict[str, int]) -> None:
    """After a "related/popular/editor's choice" heading, drop the teaser list that follows:
    labels, headlines, list items, repeated lines and one blurb per headline."""
    n = len(lines)
    pos = 0
    while pos < n:
        line = lines[pos]
        if "related_heading" not in line.flags:
            pos += 1
            continue
        consumed: list[int] = []
        teaser_seen = False
        after_headline = False
        cursor = pos + 1
        while cursor < n:
            cur = lines[cursor]
            text = cur.text
            repeated = counts.get(cur.norm, 0) > 1 and len(cur.norm) >= 12
            if "related_heading" in cur.flags or cur.removed:
                consumed.append(cursor)
                after_headline = after_headline and not cur.removed
            elif _is_label(text) and cur.words <= 3:
                consumed.append(cursor)
            elif _LIST_MARK_RE.match(text) and cur.words <= 30:
                consumed.append(cursor)
                teaser_seen = True
                after_headline = False
            elif (is_headline_like(text) and not looks_like_sentence(text)) or repeated:
                consumed.append(cursor)
                teaser_seen = True
                after_headline = True
            elif after_headline and cur.words <= 250:
                consumed.append(cursor)  # the blurb under a teaser headline
                after_headline = False
            else:
                break
            cursor += 1
        if teaser_seen:
            for idx in consumed:
                lines[idx].removed = lines[idx].removed or "related_block"
        pos = cursor if teaser_seen else pos + 1


def _later_duplicates(lines: list[_Line]) -> None:
    """Drop repeated copies of a long line (teaser headlines and blurbs printed twice);
    the first copy stays, so a quote repeated as a pull quote never loses its text."""
    seen: set[str] = set()
    for line in lines:
        if len(line.norm) < 40:
            continue
        if line.norm in seen:
            line.removed = line.removed or "duplicate"
        else:
            seen.add(line.norm)


def _trailing_residue(lines: list[_Line]) -> None:
    """After the last prose paragraph, short non-sentence lines are widget leftovers."""
    last_prose = -1
    for pos, line in enumerate(lines):
        if line.removed is None and looks_like_sentence(line.text):
            last_prose = pos
    if last_prose < 0:
        return
    for line in lines[last_prose + 1 :]:
        if line.removed is None and line.words <= 6 and not _TERMINAL_RE.search(line.text):
            line.removed = "trailing_residue"


def _body_start(lines: list[_Line]) -> int:
    """Index of the first prose paragraph (captions and widgets usually sit above it)."""
    for pos, line in enumerate(lines):
        if line.removed is None and looks_like_sentence(line.text) and line.words >= 12:
            return pos
    return len(lines)


def clean_lines(
    text: str, *, title: str | None = None, language: str | None = None, text_mode: bool = False
) -> list[tuple[str, str | None]]:
    """Classify every non-blank line: ``(line, removal_reason_or_None)``, in order.

    ``text_mode`` adds the cues that only plain-text dumps need (widget leftovers after the
    last paragraph); the HTML path relies on trafilatura for page structure.
    """
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines: list[_Line] = []
    for raw in text.split("\n"):
        stripped = raw.strip()
        if not stripped:
            continue
        norm = _normalise(stripped)
        lines.append(_Line(len(lines), stripped, norm, len(stripped.split())))
    if not lines:
        return []

    title_norm = _normalise(title) if title else None
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.norm] = counts.get(line.norm, 0) + 1

    for line in lines:
        line.removed = _line_rule(line, title_norm)

    dominant, share = _dominant_script(text, language)
    if dominant and share >= 0.6:
        for line in lines:
            if line.removed is None and line.words <= 20 and _foreign_script(line.text, dominant):
                line.removed = "script"

    body_start = _body_start(lines)
    _teaser_cards(lines, body_start + 1)
    _related_blocks(lines, counts)
    _later_duplicates(lines)
    if text_mode:
        _trailing_residue(lines)
    return [(line.text, line.removed) for line in lines]


_BLANKS_RE = re.compile(r"\n{3,}")


def clean_text(
    text: str, *, title: str | None = None, language: str | None = None, text_mode: bool = False
) -> str:
    """Remove boilerplate lines from ``text`` and return the rest with its line structure.

    Paragraph separators of the input are kept (single or blank-line breaks); runs of blank
    lines left by removed lines collapse to one blank line.
    """
    if not text or not text.strip():
        return ""
    verdicts = clean_lines(text, title=title, language=language, text_mode=text_mode)
    removed = {i for i, (_, reason) in enumerate(verdicts) if reason}
    if not removed:
        out = unicodedata.normalize("NFC", text)
        return _BLANKS_RE.sub("\n\n", out).strip()
    pieces: list[str] = []
    idx = 0
    source = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    for raw in source.split("\n"):
        if not raw.strip():
            pieces.append("")
            continue
        if idx not in removed:
            pieces.append(raw.rstrip())
        idx += 1
    out = "\n".join(pieces)
    return _BLANKS_RE.sub("\n\n", out).strip()
