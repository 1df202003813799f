-- Issue 13: the event coder's tables without PRIMARY KEY indexes. `entities` (~17 rows per
-- article) and `mentions` (~23) had composite keys, `events` (~2) and `quotes` (~6) one each;
-- DuckDB keeps a key as an ART index, which every load's write connection brings into memory
-- to check its inserts, so the flow process's peak during a load grew with the archive, as with
-- story_bands before migration 010 (bench/RESULTS.md §6, fifth round). The keys guarded nothing
-- the loader does not already guarantee: rows are only ever written by
-- warehouse/events.py:replace_enrichment, which deletes every row of the batch's articles and
-- inserts the new ones in one transaction, with one row per key kept within the batch, and
-- refuses rows of articles it is not replacing; DuckDB lets one writer hold the file. The deletes
-- by article_id are a semi-join, which is what DuckDB runs for a batch either way.
-- A key cannot be dropped in DuckDB, so each table is rebuilt with the same columns, order,
-- NOT NULLs and checks; the views name the tables and are bound when queried.

CREATE TABLE entities_rebuilt (
    article_id    VARCHAR NOT NULL,
    entity_id     VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL CHECK (kind IN ('country', 'igo', 'group', 'org', 'person')),
    name          VARCHAR NOT NULL,
    code          VARCHAR NOT NULL,
    country       VARCHAR,
    sector        VARCHAR,
    mention_count INTEGER NOT NULL,
    first_offset  INTEGER NOT NULL,
    coder_version VARCHAR NOT NULL
);
INSERT INTO entities_rebuilt SELECT * FROM entities;
DROP TABLE entities;
ALTER TABLE entities_rebuilt RENAME TO entities;

CREATE TABLE mentions_rebuilt (
    article_id     VARCHAR NOT NULL,
    start_offset   INTEGER NOT NULL,
    end_offset     INTEGER NOT NULL,
    entity_id      VARCHAR NOT NULL,
    text           VARCHAR NOT NULL,
    sentence_index INTEGER NOT NULL
);
INSERT INTO mentions_rebuilt SELECT * FROM mentions;
DROP TABLE mentions;
ALTER TABLE mentions_rebuilt RENAME TO mentions;

CREATE TABLE events_rebuilt (
    event_id         VARCHAR NOT NULL,        -- deterministic: article, sentence, trigger offset, type, rule
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
INSERT INTO events_rebuilt SELECT * FROM events;
DROP TABLE events;
ALTER TABLE events_rebuilt RENAME TO events;

CREATE TABLE quotes_rebuilt (
    quote_id          VARCHAR NOT NULL,
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
INSERT INTO quotes_rebuilt SELECT * FROM quotes;
DROP TABLE quotes;
ALTER TABLE quotes_rebuilt RENAME TO quotes;
