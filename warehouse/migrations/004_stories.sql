-- Story (near-duplicate) index of issue 9. Migration 003 adds articles.dup_group_id and
-- articles.dup_similarity (the analysts' copy of each article's group, written by
-- warehouse/stories.py); nothing here depends on them, so v_stories is right even for articles
-- whose copy has not been written yet.

-- One row per sketched article: its MinHash signatures (little-endian uint32 BLOBs), the shingle
-- counts containment is estimated from, its band keys, and its current group. The group here is
-- what the detector works from; articles.dup_group_id / dup_similarity are the analysts' copy.
CREATE TABLE story_sketches (
    article_id     VARCHAR PRIMARY KEY,
    first_seen     TIMESTAMPTZ NOT NULL,
    version        INTEGER NOT NULL,
    tokens         INTEGER NOT NULL,
    shingles       INTEGER NOT NULL,
    lead_shingles  INTEGER NOT NULL,
    signature      BLOB NOT NULL,
    lead_signature BLOB NOT NULL,
    band_keys      BIGINT[] NOT NULL,
    dup_group_id   VARCHAR NOT NULL,
    dup_similarity DOUBLE NOT NULL,
    indexed_at     TIMESTAMPTZ NOT NULL
);

-- The LSH lookup: one row per (band key, article) of the articles in the recent window.
-- Candidates of a batch are one join of its keys against this table; rows of articles older than
-- the window are pruned (their sketches and groups stay). The ART index makes the join an index
-- lookup for small batches (a quiet hour); a big batch is a hash join either way. Measured cost
-- of the index: about 1 µs per row inserted, ~50 µs per article (bench/dedup.py).
CREATE TABLE story_bands (
    band_key   BIGINT NOT NULL,
    article_id VARCHAR NOT NULL
);
CREATE INDEX story_bands_key ON story_bands (band_key);

-- One row per story: the group's first member names it. Groups come from the index, titles,
-- outlets and dates from articles (sketched articles not loaded yet are left out).
CREATE VIEW v_stories AS
WITH members AS (
    SELECT
        s.dup_group_id,
        a.article_id,
        a.title,
        a.outlet,
        coalesce(a.published_at, a.ingested_at) AS seen
    FROM story_sketches AS s
    JOIN articles AS a USING (article_id)
)
SELECT
    m.dup_group_id AS story_id,
    min(m.seen) AS first_seen,
    max(m.seen) AS last_seen,
    arg_min(m.title, (m.seen, m.article_id)) AS title,
    count(*) AS members,
    count(DISTINCT m.outlet) AS outlet_count,
    list(DISTINCT m.outlet ORDER BY m.outlet) AS outlets
FROM members AS m
GROUP BY m.dup_group_id;
