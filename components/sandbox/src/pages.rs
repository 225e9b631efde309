//! The sandbox's small HTML pages.

use platform::ApiResult;
use spin_sdk::http::{Params, Request, Response};
use spin_sdk::sqlite3::Value;

/// `GET /sandbox/health`.
pub fn health(_: Request, _: Params) -> ApiResult<Response> {
    Ok(platform::health::respond("sandbox", vec![platform::health::sqlite(crate::DB)]))
}

/// Escapes text for HTML element and attribute content.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:2rem}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}code{{font-size:.9em}}</style></head>\
         <body><h1>{t}</h1><p><em>Sandbox — test mode, no real money moves.</em></p>{body}</body></html>",
        t = esc(title)
    );
    Response::builder().status(200).header("content-type", "text/html; charset=utf-8").body(html).build()
}

/// `GET /sandbox/payments`: recent intents, refunds and webhooks.
pub fn list(_: Request, _: Params) -> ApiResult<Response> {
    let conn = crate::db()?;
    crate::payments::settle_due(&conn, false)?;
    let mut body = String::from("<h2>Payment intents</h2><table><tr><th>id</th><th>amount</th><th>status</th><th>card</th><th>received</th><th>refunded</th><th>metadata</th><th>created</th></tr>");
    for r in conn.execute("SELECT * FROM sb_intents ORDER BY created_ms DESC LIMIT 200", &[])?.rows() {
        // Stripe's wire form: a lower-case code and integer minor units
        let currency = r.get::<&str>("currency").unwrap_or_default().to_ascii_uppercase();
        let money = |c: &str| platform::money::format(r.get::<i64>(c).unwrap_or(0), &currency);
        body.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            esc(r.get::<&str>("id").unwrap_or_default()),
            esc(&money("amount")),
            esc(r.get::<&str>("status").unwrap_or_default()),
            esc(&r.get::<&str>("card_last4").map(|l| format!("•••• {l}")).unwrap_or_default()),
            esc(&money("amount_received")),
            esc(&money("amount_refunded")),
            esc(r.get::<&str>("metadata").unwrap_or_default()),
            esc(&platform::clock::rfc3339(r.get::<i64>("created_ms").unwrap_or(0))),
        ));
    }
    body.push_str("</table><h2>Webhooks</h2><table><tr><th>event</th><th>type</th><th>object</th><th>deliveries</th><th>last status</th></tr>");
    for r in conn.execute("SELECT * FROM sb_webhooks ORDER BY created_ms DESC LIMIT 100", &[])?.rows() {
        body.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            esc(r.get::<&str>("id").unwrap_or_default()),
            esc(r.get::<&str>("event_type").unwrap_or_default()),
            esc(r.get::<&str>("object_id").unwrap_or_default()),
            r.get::<i64>("deliveries").unwrap_or(0),
            r.get::<i64>("last_status").map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
        ));
    }
    body.push_str("</table>");
    Ok(page("Sandbox payments", &body))
}

/// `GET /sandbox/payments/authenticate/:id`: the buyer's 3-D Secure page.
pub fn authenticate(_: Request, params: Params) -> ApiResult<Response> {
    let id = params.get("id").unwrap_or_default();
    let conn = crate::db()?;
    let rows = conn.execute("SELECT amount, currency, status FROM sb_intents WHERE id = ?", &[Value::Text(id.into())])?;
    let Some(r) = rows.rows().next() else {
        return Err(platform::ApiError::NotFound("no such payment".into()));
    };
    let amount = platform::money::format(r.get::<i64>("amount").unwrap_or(0), &r.get::<&str>("currency").unwrap_or_default().to_ascii_uppercase());
    let form = |outcome: &str, label: &str| {
        format!(
            "<form method=\"post\" action=\"/sandbox/payments/authenticate/{}\" style=\"display:inline\">\
             <input type=\"hidden\" name=\"outcome\" value=\"{outcome}\"><button type=\"submit\">{label}</button></form> ",
            esc(id)
        )
    };
    let body = if r.get::<&str>("status") == Some("requires_action") {
        format!("<p>Confirm the payment of <strong>{}</strong>.</p>{}{}", esc(&amount), form("approve", "Complete authentication"), form("fail", "Fail authentication"))
    } else {
        format!("<p>This payment is <strong>{}</strong>; nothing to authenticate.</p>", esc(r.get::<&str>("status").unwrap_or_default()))
    };
    Ok(page("3-D Secure check", &body))
}
