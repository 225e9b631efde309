-- What the seats of a venue face, as its seat map names it: "Stage" at a
-- concert hall, "Screen" at a cinema, "Pitch" or "Court" at a ground.
ALTER TABLE venues ADD COLUMN stage_label TEXT NOT NULL DEFAULT 'Stage';
