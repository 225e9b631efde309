//! The sandbox's small HTML pages. Each is an askama template in
//! `templates/` (`.html`: every value it writes is HTML-escaped, for text
//! and quoted attributes alike); nothing here escapes by hand.

use askama::Template;
use platform::ApiResult;
use spin_sdk::http::{Params, Request, Response};
use spin_sdk::sqlite3::Value;

/// `GET /sandbox/health`.
pub fn health(_: Request, _: Params) -> ApiResult<Response> {
    Ok(platform::health::respond(
        "sandbox",
        platform::health::sqlite_migrated(crate::store::DB, || crate::store::open().map_err(|e| e.to_string())),
    ))
}

/// `page` rendered as a `text/html; charset=utf-8` answer with `status`;
/// a template whose values fail to format (none here can: strings and
/// numbers) is logged and answered with an empty body.
pub fn html(status: u16, page: &impl Template) -> Response {
    let body = page.render().unwrap_or_else(|e| {
        platform::log::error!("sandbox: a page template failed to render: {e}");
        String::new()
    });
    Response::builder().status(status).header("content-type", "text/html; charset=utf-8").body(body).build()
}

/// One PaymentIntent row of the dashboard, as shown.
struct IntentRow {
    id: String,
    amount: String,
    status: String,
    card: String,
    received: String,
    refunded: String,
    metadata: String,
    created: String,
}

/// One webhook row of the dashboard, as shown.
struct WebhookRow {
    id: String,
    event_type: String,
    object: String,
    deliveries: i64,
    last_status: String,
}

#[derive(Template)]
#[template(path = "payments.html")]
struct PaymentsPage {
    title: &'static str,
    intents: Vec<IntentRow>,
    webhooks: Vec<WebhookRow>,
}

/// `GET /sandbox/payments`: recent intents, refunds and webhooks.
pub fn list(_: Request, _: Params) -> ApiResult<Response> {
    let conn = crate::store::open()?;
    crate::payments::settle_due(&conn, false)?;
    let text = |r: &spin_sdk::sqlite3::Row<'_>, c: &str| r.get::<&str>(c).unwrap_or_default().to_string();
    let mut intents = Vec::new();
    for r in conn.execute("SELECT * FROM sb_intents ORDER BY created_ms DESC LIMIT 200", &[])?.rows() {
        // Stripe's wire form: a lower-case code and integer minor units
        let currency = r.get::<&str>("currency").unwrap_or_default().to_ascii_uppercase();
        let money = |c: &str| platform::money::format(r.get::<i64>(c).unwrap_or(0), &currency);
        intents.push(IntentRow {
            id: text(&r, "id"),
            amount: money("amount"),
            status: text(&r, "status"),
            card: r.get::<&str>("card_last4").map(|l| format!("•••• {l}")).unwrap_or_default(),
            received: money("amount_received"),
            refunded: money("amount_refunded"),
            metadata: text(&r, "metadata"),
            created: platform::clock::rfc3339(r.get::<i64>("created_ms").unwrap_or(0)),
        });
    }
    let mut webhooks = Vec::new();
    for r in conn.execute("SELECT * FROM sb_webhooks ORDER BY created_ms DESC LIMIT 100", &[])?.rows() {
        webhooks.push(WebhookRow {
            id: text(&r, "id"),
            event_type: text(&r, "event_type"),
            object: text(&r, "object_id"),
            deliveries: r.get::<i64>("deliveries").unwrap_or(0),
            last_status: r.get::<i64>("last_status").map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
        });
    }
    Ok(html(200, &PaymentsPage { title: "Sandbox payments", intents, webhooks }))
}

#[derive(Template)]
#[template(path = "authenticate.html")]
struct AuthenticatePage<'a> {
    title: &'static str,
    id: &'a str,
    /// `USD 90.00`.
    amount: String,
    status: &'a str,
    /// The intent waits for this step (`requires_action`).
    pending: bool,
    /// The two buttons: form value `outcome`, label.
    outcomes: &'static [(&'static str, &'static str)],
}

/// `GET /sandbox/payments/authenticate/:id`: the buyer's 3-D Secure page.
pub fn authenticate(_: Request, params: Params) -> ApiResult<Response> {
    let id = params.get("id").unwrap_or_default();
    let conn = crate::store::open()?;
    let rows =
        conn.execute("SELECT amount, currency, status FROM sb_intents WHERE id = ?", &[Value::Text(id.into())])?;
    let Some(r) = rows.rows().next() else {
        return Err(platform::ApiError::NotFound("no such payment".into()));
    };
    let amount = platform::money::format(
        r.get::<i64>("amount").unwrap_or(0),
        &r.get::<&str>("currency").unwrap_or_default().to_ascii_uppercase(),
    );
    let status = r.get::<&str>("status").unwrap_or_default();
    let page = AuthenticatePage {
        title: "3-D Secure check",
        id,
        amount,
        status,
        pending: status == "requires_action",
        outcomes: &[("approve", "Complete authentication"), ("fail", "Fail authentication")],
    };
    Ok(html(200, &page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_in_text_and_attributes() {
        let page = AuthenticatePage {
            title: "3-D Secure check",
            id: "pi_\"><script>x</script>",
            amount: "USD 1.00".into(),
            status: "requires_action",
            pending: true,
            outcomes: &[("approve", "Complete authentication")],
        };
        let out = page.render().unwrap();
        assert!(
            out.contains("action=\"/sandbox/payments/authenticate/pi_&#34;&#62;&#60;script&#62;x&#60;/script&#62;\""),
            "{out}"
        );
        assert!(!out.contains("<script>"), "{out}");
        assert!(
            out.starts_with("<!doctype html>")
                && out.contains("<h1>3-D Secure check</h1>")
                && out.ends_with("</body></html>"),
            "{out}"
        );
        let done = AuthenticatePage { status: "<b>succeeded</b>", pending: false, ..page };
        assert!(done.render().unwrap().contains(
            "<p>This payment is <strong>&#60;b&#62;succeeded&#60;/b&#62;</strong>; nothing to authenticate.</p>"
        ));
    }
}
