-- A search by number reads its hits newest first (started_at DESC, id) straight from
-- the index, without sorting them in a temporary table.
DROP INDEX recordings_by_number;
CREATE INDEX recordings_by_number ON recordings (tenant, customer_number_hash, started_at DESC, id);
