-- Analyst views. None of them exposes raw HTML (raw_pages stays out of them).

CREATE VIEW v_articles AS
SELECT
    a.*,
    coalesce(l.feeds, 0) AS feeds
FROM articles AS a
LEFT JOIN (
    SELECT article_id, count(DISTINCT feed_url) AS feeds
    FROM article_feeds
    GROUP BY article_id
) AS l USING (article_id);

-- Day is the UTC calendar date of the publication time, or of ingestion when the date is unknown.
CREATE VIEW v_daily_counts AS
SELECT
    CAST(timezone('UTC', coalesce(published_at, ingested_at)) AS DATE) AS day,
    source,
    count(*) AS articles
FROM articles
GROUP BY ALL;

CREATE VIEW v_feed_health AS
SELECT
    f.feed_url,
    f.name,
    f.last_status,
    f.last_http_status,
    f.last_reason,
    f.last_error,
    f.consecutive_failures,
    f.backoff_until,
    f.last_polled_at,
    f.last_ok_at,
    coalesce(c.articles, 0) AS articles
FROM feeds AS f
LEFT JOIN (
    SELECT feed_url, count(DISTINCT article_id) AS articles
    FROM article_feeds
    GROUP BY feed_url
) AS c USING (feed_url);
