-- Issue 13: articles.text compressed with zstd. DuckDB's default for strings (dictionary + FSST,
-- chosen per segment by the checkpoint) costs most of a bulk load's CPU (bench/RESULTS.md §5:
-- 100,000 articles under the writer's 512 MB cap, 2.9 → ~1 CPU-s with zstd); zstd text is also
-- smaller and scans no slower. A column's compression is fixed when the table is created, so the
-- table is rebuilt: same columns in the same order, same defaults, checks and key. Views name
-- the table and are bound when queried, so they follow the new one.

CREATE TABLE articles_rebuilt (
    article_id          VARCHAR PRIMARY KEY,
    url                 VARCHAR NOT NULL,
    outlet              VARCHAR NOT NULL,
    feed_url            VARCHAR,
    title               VARCHAR,
    authors             VARCHAR[] NOT NULL DEFAULT [],
    published_at        TIMESTAMPTZ,
    published_at_source VARCHAR CHECK (published_at_source IN ('feed', 'html', 'text', 'archive')),
    language            VARCHAR,
    text                VARCHAR NOT NULL USING COMPRESSION zstd,
    summary             VARCHAR,
    word_count          INTEGER NOT NULL,
    content_hash        VARCHAR NOT NULL,
    origin              VARCHAR NOT NULL CHECK (origin IN ('rss', 'archive')),
    text_source         VARCHAR NOT NULL,
    tags                VARCHAR[] NOT NULL DEFAULT [],
    archive_path        VARCHAR,
    archive_record      VARCHAR,
    fetched_at          TIMESTAMPTZ,
    ingested_at         TIMESTAMPTZ NOT NULL,
    run_id              VARCHAR NOT NULL,
    domain              VARCHAR,
    site_name           VARCHAR,
    text_source_reason  VARCHAR,
    title_key           VARCHAR,
    dup_group_id        VARCHAR,
    dup_similarity      DOUBLE,
    version             INTEGER DEFAULT 1
);

INSERT INTO articles_rebuilt SELECT * FROM articles;
DROP TABLE articles;
ALTER TABLE articles_rebuilt RENAME TO articles;
