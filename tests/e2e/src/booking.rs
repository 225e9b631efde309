//! Helpers for booking's end-to-end tests.
//!
//! [`spawn`] starts the app from a test manifest: the real `spin.toml` with
//! the `events` and `payments` components replaced by the
//! `booking-fixture` test component (`tests/components/booking-fixture`),
//! so tests control the inventory (sales windows, capacities, seat maps)
//! and play the payment provider's side of the saga: emit
//! `PaymentSucceeded`, redeliver an event, switch the `payments` subscriber
//! off and on.

use crate::{json, workspace_root, App, Reply, Value};

/// The development tick token (spin.toml default of `tick_token`).
pub const TICK_TOKEN: &str = "boxoffice-development-tick-token";

/// The app manifest with `events` and `payments` swapped for the fixture.
pub fn test_manifest() -> String {
    let root = workspace_root();
    let text = crate::app_manifest();
    // Buffer one table at a time; drop the tables of the replaced components
    // (`payments` and its private `payments-internal` too) and the triggers
    // that route to them.
    let replaced = |id: &str| id == "events" || id == "payments" || id == "payments-internal";
    let mut kept = String::new();
    let mut block = String::new();
    let mut drop_block = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            if !drop_block {
                kept.push_str(&block);
            }
            block.clear();
            let table = t.trim_start_matches("[component.").trim_end_matches(']');
            drop_block = t.starts_with("[component.") && replaced(table.split('.').next().unwrap_or(""));
        }
        if let Some(id) = t.strip_prefix("component = \"").and_then(|r| r.strip_suffix('"')) {
            drop_block |= replaced(id);
        }
        block.push_str(line);
        block.push('\n');
    }
    if !drop_block {
        kept.push_str(&block);
    }
    let root_s = root.display().to_string();
    let mut manifest = kept;
    let fixture = |id: &str, route: &str| {
        format!(
            "\n[[trigger.http]]\nroute = {route}\ncomponent = \"{id}\"\n\n\
             [component.{id}]\nsource = \"{root_s}/target/wasm32-wasip2/wasm/booking_fixture.wasm\"\nkey_value_stores = [\"default\"]\n\
             sqlite_databases = [\"default\"]\nallowed_outbound_hosts = [\"http://*.spin.internal\"]\n"
        )
    };
    for (id, prefix) in [("events", "events"), ("payments", "payments")] {
        manifest.push_str(&format!("\n[[trigger.http]]\nroute = \"/fixture/{prefix}/...\"\ncomponent = \"{id}\"\n"));
        manifest.push_str(&fixture(id, &format!("\"/api/{prefix}/...\"")));
    }
    // booking delivers BookingOrdered to payments' private component.
    manifest.push_str(&fixture("payments-internal", "{ private = true }"));
    manifest
}

/// Starts the app from [`test_manifest`] with `SPIN_VARIABLE_*` overrides.
pub fn spawn(vars: &[(&str, &str)]) -> App {
    App::spawn_manifest(Some(&test_manifest()), vars)
}

/// A published event id with `rows` rows (`A`, `B`, …) of `per_row` seats
/// (`A1`…) in tier `tier_s` (4500), and a general-admission tier `tier_ga`
/// (2000) of `ga_capacity`; order limit 8; starts in a week. `tweak` edits
/// the inventory before it is stored.
pub fn event(app: &App, rows: usize, per_row: usize, ga_capacity: u32, tweak: impl FnOnce(&mut Value)) -> String {
    let id = platform::ids::new("evt");
    let now = platform::clock::now_ms();
    let mut seats = Vec::new();
    for r in 0..rows {
        let row = ((b'A' + r as u8) as char).to_string();
        for n in 1..=per_row {
            seats.push(
                json!({"id": format!("{row}{n}"), "section": "S1", "row": row, "number": n.to_string(), "position": n,
                              "x": n as f64, "y": r as f64, "tier_id": "tier_s", "accessible": false}),
            );
        }
    }
    let mut inv = json!({
        "event_id": id, "title": "Booking test night", "organizer_id": "usr_org", "status": "published",
        "starts_at": platform::clock::rfc3339(now + 7 * 86_400_000), "ends_at": null, "timezone": "Europe/Berlin",
        "sales_start": null, "sales_end": null, "order_limit": 8, "currency": "EUR",
        "venue": {"id": "ven_fixture", "name": "Fixture Hall", "city": "Berlin", "location": "Fixture Hall, Unter den Linden 1, 10117 Berlin, DE"},
        "tiers": [
            {"id": "tier_s", "name": "Stalls", "price_minor": 4500, "currency": "EUR", "kind": "seated", "capacity": rows * per_row},
            {"id": "tier_ga", "name": "Floor", "price_minor": 2000, "currency": "EUR", "kind": "general_admission", "capacity": ga_capacity}
        ],
        "seats": seats,
    });
    tweak(&mut inv);
    let r = app.call("PUT", &format!("/fixture/events/{id}"), Some(&inv), &[]);
    assert_eq!(r.status, 204, "store inventory: {}", r.text());
    id
}

/// `POST /api/holds` as `token`.
pub fn hold(app: &App, token: &str, body: &Value) -> Reply {
    app.post_as(token, "/api/holds", body)
}

/// The availability of `event_id` as one document: booking's status
/// document (`GET /api/holds/availability/{event}`) with its `seats` bits
/// decoded against the layout it names into
/// `[{"id","tier_id","status"}]` in layout order — after checking the
/// invariant every test ends with: per tier and in total, sold + held +
/// available = capacity, nothing negative, and the seats' states agree
/// with the seated tiers' counts.
pub fn availability(app: &App, event_id: &str) -> Value {
    let r = app.get(&format!("/api/holds/availability/{event_id}"));
    assert_eq!(r.status, 200, "availability: {}", r.text());
    let mut v = r.json();
    for t in v["tiers"].as_array().expect("tiers").iter().chain(std::iter::once(&v["totals"])) {
        let (c, s, h, a) = (
            t["capacity"].as_i64().unwrap(),
            t["sold"].as_i64().unwrap(),
            t["held"].as_i64().unwrap(),
            t["available"].as_i64().unwrap(),
        );
        assert!(s >= 0 && h >= 0 && a >= 0, "negative count: {t}");
        assert_eq!(s + h + a, c, "sold + held + available != capacity: {t}");
    }
    let seats = decode_seats(&layout(app, &v), &v);
    for t in v["tiers"].as_array().unwrap().iter().filter(|t| t["kind"] == "seated") {
        for (status, key) in [("sold", "sold"), ("held", "held"), ("available", "available")] {
            let n = seats.iter().filter(|s| s["tier_id"] == t["tier_id"] && s["status"] == status).count() as i64;
            assert_eq!(
                n,
                t[key].as_i64().unwrap(),
                "{key} seats of tier {} disagree with its counts: {t}",
                t["tier_id"]
            );
        }
    }
    v["seats"] = Value::Array(seats);
    v
}

/// The layout document a status document names (checked: 200, the same
/// event and version).
pub fn layout(app: &App, status: &Value) -> Value {
    let url = status["layout"]["url"].as_str().expect("layout url");
    let r = app.get(url);
    assert_eq!(r.status, 200, "layout {url}: {}", r.text());
    let l = r.json();
    assert_eq!((&l["event_id"], &l["version"]), (&status["event_id"], &status["layout"]["version"]), "{url}");
    l
}

/// The seats of `layout` in layout order with their state from the
/// status document's bits: `[{"id","tier_id","status"}]`.
pub fn decode_seats(layout: &Value, status: &Value) -> Vec<Value> {
    use base64::Engine;
    let bits = base64::engine::general_purpose::STANDARD
        .decode(status["seats"]["bits"].as_str().expect("bits"))
        .expect("base64 bits");
    let states: Vec<&str> = status["seats"]["states"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    let tiers = layout["tiers"].as_array().unwrap();
    let mut out = Vec::new();
    for row in layout["rows"].as_array().unwrap() {
        for seat in row["seats"].as_array().unwrap() {
            let i = out.len();
            let code = (bits.get(i / 4).copied().unwrap_or(0) >> ((i % 4) * 2)) & 3;
            let tier = &tiers[seat[5].as_u64().unwrap() as usize]["id"];
            out.push(json!({"id": seat[0], "tier_id": tier, "status": states[code as usize]}));
        }
    }
    assert_eq!(out.len() as u64, layout["seat_count"].as_u64().unwrap(), "layout seat_count");
    assert!(bits.len() * 4 >= out.len(), "{} bytes of bits for {} seats", bits.len(), out.len());
    out
}

/// Status of seat `id` in an availability document.
pub fn seat_status(avail: &Value, id: &str) -> String {
    avail["seats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .map(|s| s["status"].as_str().unwrap().to_string())
        .expect("seat")
}

/// Counts of tier `id` in an availability document.
pub fn tier<'a>(avail: &'a Value, id: &str) -> &'a Value {
    avail["tiers"].as_array().unwrap().iter().find(|t| t["tier_id"] == id).expect("tier")
}

/// A booking body for `n` tickets.
pub fn booking_body(hold_id: &str, n: usize) -> Value {
    json!({"hold_id": hold_id, "buyer": {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+14155550100"},
           "attendees": (0..n).map(|i| json!({"name": format!("Guest {i}")})).collect::<Vec<_>>()})
}

/// `POST /api/bookings/tick` with the tick token.
pub fn tick(app: &App) -> Value {
    let r = app.call("POST", "/api/bookings/tick", None, &[("authorization", &format!("Bearer {TICK_TOKEN}"))]);
    assert_eq!(r.status, 200, "tick: {}", r.text());
    r.json()
}

/// Emits an event as `payments` through the fixture's outbox.
pub fn emit(app: &App, event_type: &str, payload: Value) -> Value {
    let r = app.post("/fixture/payments/emit", &json!({"event_type": event_type, "payload": payload}));
    assert_eq!(r.status, 200, "emit: {}", r.text());
    r.json()
}
