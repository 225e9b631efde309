//! Read side: the caller's tickets, one ticket with its QR code, its
//! calendar file.

use crate::store::{self, text, Ticket, COLUMNS};
use platform::web::{ok, Query};
use platform::{ApiError, ApiResult};
use serde_json::json;
use spin_sdk::http::{Params, Request, Response};
use spin_sdk::sqlite3::Value;

/// `GET /api/tickets?cursor=&limit=&booking_id=&event_id=`: the caller's
/// tickets, newest first (`limit` 1–100, default 50).
///
/// ```json
/// {"items":[<ticket view>…],"next_cursor":"tkt_…"|null}
/// ```
/// `next_cursor` is the id of the last item; pass it as `cursor` for the
/// next page. Errors: 401 signed out, 422 bad `limit`/`cursor`.
pub fn list(req: Request, _: Params) -> ApiResult {
    let caller = platform::auth::require(&req)?;
    let q = Query::of(&req);
    let limit = q.limit(50, 100)?;
    let cursor = q.get("cursor");
    if let Some(c) = cursor {
        if !platform::ids::is_valid("tkt", c) {
            return Err(ApiError::field("cursor", "is not a cursor from this list"));
        }
    }
    let opt = |v: Option<&str>| v.map(text).unwrap_or(Value::Null);
    let sql = format!(
        "SELECT {COLUMNS} FROM tickets WHERE user_id = ? AND (?2 IS NULL OR id < ?2) AND (?3 IS NULL OR booking_id = ?3) \
         AND (?4 IS NULL OR event_id = ?4) ORDER BY id DESC LIMIT ?5"
    );
    let conn = store::open()?;
    let rs = conn.execute(
        &sql,
        &[
            text(&caller.user_id),
            opt(cursor),
            opt(q.get("booking_id")),
            opt(q.get("event_id")),
            Value::Integer(i64::from(limit) + 1),
        ],
    )?;
    let mut items: Vec<Ticket> = rs.rows().map(|r| Ticket::from_row(&r)).collect();
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|t| t.id.clone())
    } else {
        None
    };
    ok(&json!({"items": items.iter().map(Ticket::view).collect::<Vec<_>>(), "next_cursor": next}))
}

/// Loads a ticket the caller may read: 404 when missing and, the same
/// answer, for another user's ticket (admins read all) — like other users'
/// holds, bookings and payments, nothing confirms that it exists; 410 when
/// void (to its owner).
fn readable(req: &Request, id: &str) -> ApiResult<Ticket> {
    let caller = platform::auth::require(req)?;
    let conn = store::open()?;
    let missing = || ApiError::NotFound(format!("no ticket {id}"));
    let t = store::by_id(&conn, id)?.ok_or_else(missing)?;
    if !caller.is_admin() && caller.user_id != t.user_id {
        return Err(missing());
    }
    if t.is_void() {
        return Err(ApiError::Gone(format!(
            "ticket {id} is void ({}); it admits nobody",
            t.void_reason.as_deref().unwrap_or("cancelled")
        )));
    }
    Ok(t)
}

/// `GET /api/tickets/{id}`: the ticket view plus `qr_svg` (an SVG image
/// of the QR code of `code`); `GET /api/tickets/{id}.ics` is the calendar
/// file ([`ics`]). Errors: 401, 404 (also another user's), 410 (void).
pub fn get(req: Request, params: Params) -> ApiResult {
    let raw = params.get("id").unwrap_or_default();
    if let Some(id) = raw.strip_suffix(".ics") {
        return ics(&req, id);
    }
    let t = readable(&req, raw)?;
    let mut view = t.view();
    view["qr_svg"] = json!(crate::qr::svg(&t.code)?);
    ok(&view)
}

/// `GET /api/tickets/{id}/qr.svg`: the QR code alone, `image/svg+xml`.
pub fn qr_svg(req: Request, params: Params) -> ApiResult {
    let t = readable(&req, params.get("id").unwrap_or_default())?;
    Ok(Response::builder().status(200).header("content-type", "image/svg+xml").body(crate::qr::svg(&t.code)?).build())
}

/// `GET /api/tickets/{id}.ics`: `text/calendar; charset=utf-8`, served as
/// an attachment named `<id>.ics`, to the ticket's holder (bearer token),
/// or to anyone with the signed, expiring link of its e-mail
/// (`?k=&expires=&sig=`, [`crate::issue::calendar_link`]; 403 when it is
/// forged, for another ticket or expired).
fn ics(req: &Request, id: &str) -> ApiResult {
    let q = platform::web::Query::of(req);
    let t = match (q.get("k"), q.get("expires"), q.get("sig")) {
        // an e-mailed link (no sign-in on a phone): signed for this ticket, not expired
        (Some(kid), Some(expires), Some(sig)) => {
            let keys = crate::code::TicketKeys::required()?;
            let expires = expires.parse::<i64>().unwrap_or(0);
            if !keys.verify_link(id, kid, expires, sig, platform::clock::now_secs()) {
                return Err(ApiError::Forbidden(
                    "this calendar link is not valid or has expired; open the ticket in Boxoffice for a new one".into(),
                ));
            }
            let conn = store::open()?;
            let t = store::by_id(&conn, id)?.ok_or_else(|| ApiError::NotFound(format!("no ticket {id}")))?;
            if t.is_void() {
                return Err(ApiError::Gone(format!("ticket {id} is void; it admits nobody")));
            }
            t
        }
        _ => readable(req, id)?,
    };
    let base = platform::config::get("public_base_url");
    let seat = platform::seat::label(t.seat_id.as_deref());
    let zones = calendar_zone(&t.timezone, t.starts_at_ms);
    let local = zones.as_ref().and_then(|(answer, start)| {
        Some(crate::ics::LocalTimes {
            zone: answer.calendar(&t.timezone)?,
            start: &answer.time(start)?.local,
            end: None,
        })
    });
    let body = crate::ics::render(&crate::ics::CalendarTicket {
        ticket_id: &t.id,
        event_title: &t.event_title,
        location: &t.venue,
        starts_at_ms: t.starts_at_ms,
        ends_at_ms: None,
        local,
        description: format!("Ticket for {}, {seat}\nCode: {}", t.attendee_name, t.code),
        url: base.map(|b| format!("{}/tickets/{}", b.trim_end_matches('/'), t.id)),
        stamp_ms: platform::clock::now_ms(),
        cancelled: false,
        sequence: t.sequence,
    });
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/calendar; charset=utf-8")
        .header("content-disposition", format!("attachment; filename=\"{}.ics\"", t.id))
        .body(body)
        .build())
}

/// The `VTIMEZONE` of `timezone` and the local time of `starts_at_ms` in
/// it, asked of events ([`platform::zones`]); `None` (the file then says
/// UTC) when events cannot answer: a calendar entry in UTC is still right.
fn calendar_zone(timezone: &str, starts_at_ms: i64) -> Option<(platform::zones::ZoneAnswer, platform::zones::TimeAsk)> {
    use platform::zones::{CalendarAsk, TimeAsk, ZoneQuery};
    let at = platform::clock::rfc3339(starts_at_ms);
    let start = TimeAsk { timezone: timezone.to_string(), at: at.clone() };
    let query = ZoneQuery {
        times: vec![start.clone()],
        calendars: vec![CalendarAsk { timezone: timezone.to_string(), around: at }],
    };
    platform::zones::resolve(&query).ok().map(|answer| (answer, start))
}
