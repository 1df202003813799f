-- Issue 13: an archive record's body is not stored a second time. The archive already holds it,
-- and raw_pages keeps where (headers_json's x-newsflow-archive: archive_path, locator, kind), so
-- reprocess re-reads it from there. body_gz is NULL for such rows; body_bytes stays the size.
ALTER TABLE raw_pages ALTER COLUMN body_gz DROP NOT NULL;
