-- Issue 10: entities, coded PLOVER events and quotes per article, written by the event coder
-- (extractors/events). Rows of one article are replaced together (warehouse/events.py), so
-- re-running the coder over stored articles after a rule change leaves no stale rows.
-- Offsets are character offsets into articles.text. Only primary keys are indexed (see 001).

CREATE TABLE entities (
    article_id    VARCHAR NOT NULL,
    entity_id     VARCHAR NOT NULL,            -- ISO3, a body code (IGOUNO, TAL), or person:<key>
    kind          VARCHAR NOT NULL CHECK (kind IN ('country', 'igo', 'group', 'org', 'person')),
    name          VARCHAR NOT NULL,
    code          VARCHAR NOT NULL,
    country       VARCHAR,                     -- ISO 3166 alpha-3
    sector        VARCHAR,                     -- GOV, MIL, REB, IGO, ...
    mention_count INTEGER NOT NULL,
    first_offset  INTEGER NOT NULL,
    coder_version VARCHAR NOT NULL,
    PRIMARY KEY (article_id, entity_id)
);

CREATE TABLE mentions (
    article_id     VARCHAR NOT NULL,
    start_offset   INTEGER NOT NULL,
    end_offset     INTEGER NOT NULL,
    entity_id      VARCHAR NOT NULL,
    text           VARCHAR NOT NULL,
    sentence_index INTEGER NOT NULL,
    PRIMARY KEY (article_id, start_offset)
);

CREATE TABLE events (
    event_id         VARCHAR PRIMARY KEY,     -- deterministic: article, sentence, trigger offset, type, rule
    article_id       VARCHAR NOT NULL,
    sentence_index   INTEGER NOT NULL,
    sentence         VARCHAR NOT NULL,
    trigger          VARCHAR NOT NULL,
    trigger_start    INTEGER NOT NULL,
    trigger_end      INTEGER NOT NULL,
    event_type       VARCHAR NOT NULL CHECK (event_type IN ('AGREE', 'CONSULT', 'SUPPORT', 'CONCEDE', 'COOPERATE',
                         'AID', 'RETREAT', 'REQUEST', 'ACCUSE', 'REJECT', 'THREATEN', 'PROTEST', 'SANCTION',
                         'MOBILIZE', 'COERCE', 'ASSAULT')),
    quad_class       VARCHAR NOT NULL CHECK (quad_class IN ('verbal_cooperation', 'material_cooperation',
                         'verbal_conflict', 'material_conflict')),
    intensity        DOUBLE NOT NULL,
    actors           STRUCT(text VARCHAR, country VARCHAR, sector VARCHAR, entity_id VARCHAR)[] NOT NULL,
    recipients       STRUCT(text VARCHAR, country VARCHAR, sector VARCHAR, entity_id VARCHAR)[] NOT NULL,
    event_date       DATE,                    -- NULL only when the article has no publication date
    date_precision   VARCHAR CHECK (date_precision IN ('day', 'week', 'month', 'year', 'pubdate')),
    date_text        VARCHAR,
    location_text    VARCHAR,
    location_country VARCHAR,
    modality         VARCHAR NOT NULL CHECK (modality IN ('asserted', 'future', 'hypothetical', 'negated', 'reported')),
    confidence       DOUBLE NOT NULL,
    rule_id          VARCHAR NOT NULL,
    coder_version    VARCHAR NOT NULL
);

CREATE TABLE quotes (
    quote_id          VARCHAR PRIMARY KEY,
    article_id        VARCHAR NOT NULL,
    kind              VARCHAR NOT NULL CHECK (kind IN ('direct', 'indirect')),
    text              VARCHAR NOT NULL,
    start_offset      INTEGER NOT NULL,
    end_offset        INTEGER NOT NULL,
    speaker_text      VARCHAR,
    speaker_entity_id VARCHAR,
    speaker_country   VARCHAR,
    cue               VARCHAR,
    sentence_index    INTEGER NOT NULL,
    coder_version     VARCHAR NOT NULL
);

-- One row per actor–recipient pair of every event (an event without a recipient gives one row
-- per actor with a NULL recipient). Codes are GDELT-style: country + sector ("RUSGOV"), the sector
-- alone for bodies without a country ("IGO"), NULL when neither is known.
CREATE VIEW v_events_dyadic AS
SELECT
    e.event_id,
    e.article_id,
    a.outlet,
    a.url,
    a.published_at,
    e.event_date,
    e.date_precision,
    e.event_type,
    e.quad_class,
    e.intensity,
    e.modality,
    e.confidence,
    e.rule_id,
    act.actor.text AS actor_text,
    act.actor.country AS actor_country,
    act.actor.sector AS actor_sector,
    nullif(coalesce(act.actor.country, '') || coalesce(act.actor.sector, ''), '') AS actor_code,
    act.actor.entity_id AS actor_entity_id,
    rec.recipient.text AS recipient_text,
    rec.recipient.country AS recipient_country,
    rec.recipient.sector AS recipient_sector,
    nullif(coalesce(rec.recipient.country, '') || coalesce(rec.recipient.sector, ''), '') AS recipient_code,
    rec.recipient.entity_id AS recipient_entity_id,
    e.location_text,
    e.location_country,
    e.trigger,
    e.sentence
FROM events AS e
CROSS JOIN LATERAL (SELECT unnest(e.actors) AS actor) AS act
LEFT JOIN LATERAL (SELECT unnest(e.recipients) AS recipient) AS rec ON true
LEFT JOIN articles AS a ON a.article_id = e.article_id;

-- Who did what to whom, by month: events that happened (asserted or reported), counted per pair
-- of codes and event type. Month of the event date (UTC); events of undated articles are left out.
CREATE VIEW v_actor_pairs AS
SELECT
    CAST(date_trunc('month', event_date) AS DATE) AS month,
    actor_code,
    recipient_code,
    event_type,
    quad_class,
    count(DISTINCT event_id) AS events,
    count(DISTINCT article_id) AS articles,
    avg(intensity) AS mean_intensity
FROM v_events_dyadic
WHERE modality IN ('asserted', 'reported') AND event_date IS NOT NULL
GROUP BY ALL;

-- Quotes per resolved speaker (unresolved speakers are grouped by their words).
CREATE VIEW v_quotes_by_speaker AS
SELECT
    coalesce(q.speaker_entity_id, 'text:' || lower(q.speaker_text)) AS speaker_key,
    coalesce(any_value(en.name), any_value(q.speaker_text)) AS speaker,
    any_value(q.speaker_country) AS speaker_country,
    count(*) AS quotes,
    count(*) FILTER (WHERE q.kind = 'direct') AS direct_quotes,
    count(DISTINCT q.article_id) AS articles,
    min(a.published_at) AS first_published_at,
    max(a.published_at) AS last_published_at
FROM quotes AS q
LEFT JOIN entities AS en ON en.article_id = q.article_id AND en.entity_id = q.speaker_entity_id
LEFT JOIN articles AS a ON a.article_id = q.article_id
WHERE q.speaker_entity_id IS NOT NULL OR q.speaker_text IS NOT NULL
GROUP BY 1;
