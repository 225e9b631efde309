-- An imported venue belongs to the organizer who imported it: (owner,
-- source, external id) names it, so two organizers importing the same
-- Ticketmaster or JSON-LD venue get a venue each and neither import can
-- change the other's (issue 17). Replaces the platform-wide unique index on
-- (source, external_id).
DROP INDEX IF EXISTS venues_external;
CREATE UNIQUE INDEX IF NOT EXISTS venues_external_by_owner ON venues (owner_id, source, external_id) WHERE external_id IS NOT NULL;
