//! The write paths every change of an event goes through — organizer
//! edits and importers alike: the row, its tiers and its search entry in
//! one call, and the saga events the change owes (`EventChanged`,
//! `EventRescheduled`, [`crate::outbox`]).

use crate::spec::EventSpec;
use crate::store::{self, int, opt_int, opt_text};
use platform::event_status::EventStatus;
use platform::{ApiError, ApiResult};
use spin_sdk::sqlite3::Connection;

const INSERT_EVENT: &str = "INSERT INTO events (id, organizer_id, venue_id, title, description, category, performers, image_url, starts_at, ends_at, timezone, time_tba, sales_start, sales_end, order_limit, currency, price_from, status, published_at, source, external_id, source_status, fingerprint, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)";
const UPDATE_EVENT: &str = "UPDATE events SET venue_id = ?, title = ?, description = ?, category = ?, performers = ?, image_url = ?, starts_at = ?, ends_at = ?, timezone = ?, time_tba = ?, sales_start = ?, sales_end = ?, order_limit = ?, currency = ?, price_from = ?, source_status = ?, fingerprint = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ? RETURNING version, status";
pub const DELETE_TIERS: &str = "DELETE FROM tiers WHERE event_id = ?";
const INSERT_TIER: &str = "INSERT INTO tiers (id, event_id, position, name, price_minor, currency, kind, capacity, sections, seats) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
pub const DELETE_FTS: &str = "DELETE FROM events_fts WHERE rowid = (SELECT rowid FROM events WHERE id = ?)";
const INSERT_FTS: &str = "INSERT INTO events_fts (rowid, title, performers, venue, city, description) SELECT rowid, ?, ?, ?, ?, ? FROM events WHERE id = ?";

/// Where an event came from, for importers.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// Importer name (`ticketmaster`, `jsonld`).
    pub source: Option<String>,
    /// Id in the source.
    pub external_id: Option<String>,
    /// The source's status text.
    pub source_status: Option<String>,
    /// Digest of the imported record.
    pub fingerprint: Option<String>,
}

/// The values of the columns `venue_id` … `price_from`, in the order both
/// INSERT_EVENT and UPDATE_EVENT list them.
fn spec_values(spec: &EventSpec) -> Vec<spin_sdk::sqlite3::Value> {
    vec![
        store::text(&spec.venue.id),
        store::text(&spec.title),
        store::text(&spec.description),
        store::text(spec.category.as_str()),
        store::text(&serde_json::to_string(&spec.performers).unwrap_or_default()),
        opt_text(spec.image_url.as_deref()),
        int(spec.starts_at),
        opt_int(spec.ends_at),
        store::text(spec.venue.timezone.name()),
        int(i64::from(spec.time_tba)),
        opt_int(spec.sales_start),
        opt_int(spec.sales_end),
        int(spec.order_limit),
        store::text(spec.currency.code()),
        opt_int(spec.price_from()),
    ]
}

/// Inserts a new event (in `status`) with its tiers and search row; returns its id.
/// Call inside a transaction.
pub fn insert(
    conn: &Connection,
    spec: &EventSpec,
    organizer: &str,
    status: EventStatus,
    origin: &Origin,
) -> ApiResult<String> {
    let id = platform::ids::new("evt");
    let now = platform::clock::now_ms();
    let mut args = vec![store::text(&id), store::text(organizer)];
    args.extend(spec_values(spec));
    args.extend([
        store::text(status.as_str()),
        opt_int((status == EventStatus::Published).then_some(now)),
        opt_text(origin.source.as_deref()),
        opt_text(origin.external_id.as_deref()),
        opt_text(origin.source_status.as_deref()),
        opt_text(origin.fingerprint.as_deref()),
        int(now),
        int(now),
    ]);
    conn.execute(INSERT_EVENT, &args)?;
    write_tiers(conn, &id, spec)?;
    write_fts(conn, &id, spec)?;
    if status != EventStatus::Draft {
        crate::outbox::changed(conn, &id, 1, status)?;
    }
    Ok(id)
}

/// Replaces event `id`'s editable fields, tiers and search row, if its
/// version is still `version`; 409 when someone else changed it meanwhile.
/// Emits `EventChanged` (not for drafts) and, when a published event's
/// start or end moved, `EventRescheduled` ([`crate::outbox::rescheduled`]),
/// so its buyers hear of it — whether an organizer or an import moved it.
/// Call inside a transaction.
pub fn update(conn: &Connection, id: &str, version: i64, spec: &EventSpec, origin: &Origin) -> ApiResult<()> {
    let before = conn.execute("SELECT starts_at, ends_at FROM events WHERE id = ?", &[store::text(id)])?;
    let before = before.rows().next().map(|r| (store::i(&r, "starts_at"), r.get::<i64>("ends_at")));
    let mut args = spec_values(spec);
    args.extend([
        opt_text(origin.source_status.as_deref()),
        opt_text(origin.fingerprint.as_deref()),
        int(platform::clock::now_ms()),
        store::text(id),
        int(version),
    ]);
    let rs = conn.execute(UPDATE_EVENT, &args)?;
    let Some((new_version, status)) = rs
        .rows()
        .next()
        .map(|r| (store::i(&r, "version"), EventStatus::parse(&store::s(&r, "status")).unwrap_or(EventStatus::Draft)))
    else {
        return Err(ApiError::conflict("edit-conflict", "the event changed meanwhile; reload and try again"));
    };
    conn.execute(DELETE_TIERS, &[store::text(id)])?;
    write_tiers(conn, id, spec)?;
    conn.execute(DELETE_FTS, &[store::text(id)])?;
    write_fts(conn, id, spec)?;
    if status != EventStatus::Draft {
        crate::outbox::changed(conn, id, new_version, status)?;
    }
    match before {
        Some((starts, ends))
            if status == EventStatus::Published && (starts != spec.starts_at || ends != spec.ends_at) =>
        {
            let at = |ms: Option<i64>| ms.map(platform::clock::rfc3339);
            crate::outbox::rescheduled(
                conn,
                &saga::contract::EventRescheduled {
                    event_id: id.to_string(),
                    version: new_version,
                    title: spec.title.clone(),
                    starts_at: platform::clock::rfc3339(spec.starts_at),
                    ends_at: at(spec.ends_at),
                    previous_starts_at: Some(platform::clock::rfc3339(starts)),
                    previous_ends_at: at(ends),
                    timezone: spec.venue.timezone.name().to_string(),
                    sales_close_at: platform::clock::rfc3339(spec.sales_end.unwrap_or(spec.starts_at)),
                },
            )?;
        }
        _ => {}
    }
    Ok(())
}

fn write_tiers(conn: &Connection, event_id: &str, spec: &EventSpec) -> ApiResult<()> {
    for (k, t) in spec.tiers.iter().enumerate() {
        let id = t.id.clone().unwrap_or_else(|| platform::ids::new("tier"));
        conn.execute(
            INSERT_TIER,
            &[
                store::text(&id),
                store::text(event_id),
                int(k as i64),
                store::text(&t.name),
                int(t.price_minor),
                store::text(spec.currency.code()),
                store::text(t.kind.as_str()),
                int(t.capacity),
                store::text(&serde_json::to_string(&t.sections).unwrap_or_default()),
                store::text(&serde_json::to_string(&t.seats).unwrap_or_default()),
            ],
        )?;
    }
    Ok(())
}

fn write_fts(conn: &Connection, id: &str, spec: &EventSpec) -> ApiResult<()> {
    conn.execute(
        INSERT_FTS,
        &[
            store::text(&spec.title),
            store::text(&spec.performers.join(" ")),
            store::text(&spec.venue.name),
            store::text(&spec.venue.city),
            store::text(&spec.description),
            store::text(id),
        ],
    )?;
    Ok(())
}
