-- Records analysts can trust (issue 9): one outlet one name, the registrable domain, what the
-- page itself called its site, why a feed's text stood in for the page, a key for exact-title
-- duplicates, the story group of near-duplicates, and the earlier versions of updated articles.
-- Views that name changed columns are dropped first and re-created below.

DROP VIEW IF EXISTS v_daily_counts;
DROP VIEW IF EXISTS v_articles;

ALTER TABLE articles RENAME COLUMN source TO outlet;
ALTER TABLE articles ADD COLUMN domain VARCHAR;
ALTER TABLE articles ADD COLUMN site_name VARCHAR;
ALTER TABLE articles ADD COLUMN text_source_reason VARCHAR;
ALTER TABLE articles ADD COLUMN title_key VARCHAR;
ALTER TABLE articles ADD COLUMN dup_group_id VARCHAR;
ALTER TABLE articles ADD COLUMN dup_similarity DOUBLE;
ALTER TABLE articles ADD COLUMN version INTEGER DEFAULT 1;

-- Rows written before this migration: the old "source" was the page's site name (or the host).
UPDATE articles SET site_name = outlet, version = 1;

-- What a feed item looked like when it was last seen, so a changed item is noticed.
ALTER TABLE article_feeds ADD COLUMN entry_fingerprint VARCHAR;

-- Earlier versions of an article whose text changed; `articles` keeps the latest one.
CREATE TABLE article_versions (
    article_id   VARCHAR NOT NULL,
    version      INTEGER NOT NULL,
    content_hash VARCHAR NOT NULL,
    title        VARCHAR,
    text         VARCHAR NOT NULL,
    word_count   INTEGER NOT NULL,
    published_at TIMESTAMPTZ,
    fetched_at   TIMESTAMPTZ,
    ingested_at  TIMESTAMPTZ NOT NULL,
    replaced_at  TIMESTAMPTZ NOT NULL,
    run_id       VARCHAR NOT NULL,
    PRIMARY KEY (article_id, version)
);

CREATE VIEW v_articles AS
SELECT
    a.*,
    coalesce(l.feeds, 0) AS feeds,
    coalesce(vv.versions, 0) + 1 AS versions
FROM articles AS a
LEFT JOIN (
    SELECT article_id, count(DISTINCT feed_url) AS feeds
    FROM article_feeds
    GROUP BY article_id
) AS l USING (article_id)
LEFT JOIN (
    SELECT article_id, count(*) AS versions
    FROM article_versions
    GROUP BY article_id
) AS vv USING (article_id);

-- Day is the UTC calendar date of publication. Undated articles are not counted on any day
-- (see v_outlets.undated); `stories` counts near-duplicate groups once.
CREATE VIEW v_daily_counts AS
SELECT
    CAST(timezone('UTC', published_at) AS DATE) AS day,
    outlet,
    count(*) AS articles,
    count(DISTINCT coalesce(dup_group_id, article_id)) AS stories
FROM articles
WHERE published_at IS NOT NULL
GROUP BY ALL;

-- One row per outlet: how much it published, how much of it is undated, where it lives.
CREATE VIEW v_outlets AS
SELECT
    outlet,
    string_agg(DISTINCT domain, ', ' ORDER BY domain) AS domains,
    count(*) AS articles,
    count(*) FILTER (WHERE published_at IS NULL) AS undated,
    count(*) FILTER (WHERE text_source = 'feed') AS feed_text_only,
    min(published_at) AS first_published_at,
    max(published_at) AS last_published_at
FROM articles
GROUP BY outlet;
