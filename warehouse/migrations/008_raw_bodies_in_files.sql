-- Raw page bodies move out of the database file (issue 13): new rows keep the body in a
-- content-addressed gzip file beside the database (warehouse/pages.py) and name it here;
-- rows written before keep their inline body_gz, which is still read (007 made it nullable).
ALTER TABLE raw_pages ADD COLUMN body_ref VARCHAR;
