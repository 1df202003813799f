-- Lake batches (issue 14): Parquet batches written by cluster workers into NEWSFLOW_LAKE_URI and
-- loaded by the one committer. A batch id is recorded here in the same transaction as its rows,
-- so a batch is loaded exactly once however often the committer is killed and rerun.
CREATE TABLE lake_batches (
    batch_id   VARCHAR PRIMARY KEY,
    source     VARCHAR NOT NULL,   -- the archive file the batch came from
    byte_start BIGINT NOT NULL,
    byte_end   BIGINT,             -- NULL: to the end of the file
    records    INTEGER NOT NULL,   -- archive records the shard read
    articles   INTEGER NOT NULL,   -- articles the batch held (before duplicates were folded)
    run_id     VARCHAR NOT NULL,   -- the run that committed it
    loaded_at  TIMESTAMPTZ NOT NULL
);
