-- Issue 13: story_bands without its ART index. The table has ~48 rows per sketched article
-- (32 full + 16 lead band keys), and every load's write connection brought the non-unique index
-- over all of them into memory for its inserts: the flow process's peak during a load grew with
-- the archive (bench/RESULTS.md §6). Nothing needs the index: the candidate lookup of a batch
-- (warehouse/stories.py: find_candidates) and the deletes of re-sketched or pruned articles are
-- a hash join / semi-join of the batch's keys against a scan of the two narrow columns, which is
-- what DuckDB runs for a batch either way; dropping it also removes its insert cost (~1 µs a row).
DROP INDEX IF EXISTS story_bands_key;
