-- Core tables. Columns mirror the pydantic records in schemas/records.py.
-- Only primary keys are indexed: DuckDB's ART indexes slow bulk inserts, and the analysts'
-- scans (by day, by source) are served by zone maps.

CREATE TABLE feeds (
    feed_url             VARCHAR PRIMARY KEY,
    name                 VARCHAR,
    tags                 VARCHAR[] NOT NULL DEFAULT [],
    etag                 VARCHAR,
    last_modified        VARCHAR,
    body_hash            VARCHAR,
    last_status          VARCHAR,
    last_http_status     INTEGER,
    last_reason          VARCHAR,
    last_error           VARCHAR,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    backoff_until        TIMESTAMPTZ,
    last_polled_at       TIMESTAMPTZ,
    last_ok_at           TIMESTAMPTZ,
    entries_last_seen    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE articles (
    article_id          VARCHAR PRIMARY KEY,
    url                 VARCHAR NOT NULL,
    source              VARCHAR NOT NULL,
    feed_url            VARCHAR,
    title               VARCHAR,
    authors             VARCHAR[] NOT NULL DEFAULT [],
    published_at        TIMESTAMPTZ,
    published_at_source VARCHAR CHECK (published_at_source IN ('feed', 'html', 'text', 'archive')),
    language            VARCHAR,
    text                VARCHAR NOT NULL,
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
    run_id              VARCHAR NOT NULL
);

CREATE TABLE article_feeds (
    article_id    VARCHAR NOT NULL,
    feed_url      VARCHAR NOT NULL,
    guid          VARCHAR NOT NULL,
    entry_url     VARCHAR,
    first_seen_at TIMESTAMPTZ NOT NULL,
    run_id        VARCHAR NOT NULL,
    PRIMARY KEY (article_id, feed_url, guid)
);

CREATE TABLE raw_pages (
    page_id      VARCHAR PRIMARY KEY,
    article_id   VARCHAR,
    url          VARCHAR NOT NULL,
    final_url    VARCHAR NOT NULL,
    http_status  INTEGER,
    content_type VARCHAR,
    headers_json VARCHAR NOT NULL DEFAULT '{}',
    body_gz      BLOB NOT NULL,
    body_bytes   BIGINT NOT NULL,
    origin       VARCHAR NOT NULL,
    fetched_at   TIMESTAMPTZ NOT NULL,
    run_id       VARCHAR NOT NULL
);

CREATE TABLE runs (
    run_id             VARCHAR PRIMARY KEY,
    flow               VARCHAR NOT NULL,
    started_at         TIMESTAMPTZ NOT NULL,
    finished_at        TIMESTAMPTZ,
    status             VARCHAR NOT NULL,
    feeds_total        INTEGER NOT NULL DEFAULT 0,
    feeds_ok           INTEGER NOT NULL DEFAULT 0,
    feeds_not_modified INTEGER NOT NULL DEFAULT 0,
    feeds_failed       INTEGER NOT NULL DEFAULT 0,
    entries_seen       INTEGER NOT NULL DEFAULT 0,
    pages_fetched      INTEGER NOT NULL DEFAULT 0,
    articles_new       INTEGER NOT NULL DEFAULT 0,
    articles_updated   INTEGER NOT NULL DEFAULT 0,
    links_new          INTEGER NOT NULL DEFAULT 0,
    rejects            INTEGER NOT NULL DEFAULT 0,
    staged             BOOLEAN NOT NULL DEFAULT false,
    details_json       VARCHAR NOT NULL DEFAULT '{}'
);

CREATE TABLE rejects (
    reject_id    VARCHAR PRIMARY KEY,
    run_id       VARCHAR NOT NULL,
    stage        VARCHAR NOT NULL,
    source       VARCHAR,
    url          VARCHAR,
    reason       VARCHAR NOT NULL,
    reason_class VARCHAR NOT NULL CHECK (reason_class IN ('transient', 'permanent')),
    message      VARCHAR NOT NULL,
    payload      VARCHAR,
    created_at   TIMESTAMPTZ NOT NULL
);

-- One row per archive record a backfill has handled, so an interrupted backfill resumes.
CREATE TABLE archive_records (
    record_id  VARCHAR PRIMARY KEY,
    path       VARCHAR NOT NULL,
    locator    VARCHAR,
    article_id VARCHAR,
    status     VARCHAR NOT NULL CHECK (status IN ('loaded', 'rejected')),
    run_id     VARCHAR NOT NULL,
    loaded_at  TIMESTAMPTZ NOT NULL
);
