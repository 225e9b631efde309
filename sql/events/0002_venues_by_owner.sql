-- GET /api/venues?mine=true pages through one organizer's venues newest
-- first (owner_id = ? AND id < ? ORDER BY id DESC): this index answers it
-- alone, without scanning every venue.
CREATE INDEX IF NOT EXISTS venues_by_owner ON venues (owner_id, id);
