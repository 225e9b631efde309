//! A buyer's purchase through the real components, for the flow tests that
//! start from a paid booking (`tests/tickets_flow.rs`, `tests/saga_flow.rs`).

use crate::accounts::{self, Minted, User};
use crate::catalog;
use crate::payments::{pay, VISA_OK};
use crate::{json, App};

/// What [`paid_purchase`] made.
pub struct Purchase {
    /// The organizer who made and published the event.
    pub org: User,
    /// `evt_…`, published, in New York.
    pub event_id: String,
    /// Its one general-admission tier.
    pub tier_id: String,
    /// The buyer (a registered customer).
    pub buyer: User,
    /// The buyer's account e-mail, also given as the booking's buyer
    /// e-mail (unique to this purchase): where its mail goes.
    pub email: String,
    /// `bkg_…`, paid.
    pub booking_id: String,
}

/// A fresh organizer publishes `title` at a general-admission venue in New
/// York starting at `starts` (local time, as [`catalog::days_ahead`] gives),
/// and a freshly registered customer holds one place per name in `attendees`, checks
/// them out and pays by card. Panics on any unexpected answer.
pub fn paid_purchase(app: &App, title: &str, starts: &str, attendees: &[&str]) -> Purchase {
    let purchase = unpaid_purchase(app, title, starts, attendees);
    let paid = pay(app, &purchase.buyer.token, &purchase.booking_id, VISA_OK);
    assert!(paid.status == 200 || paid.status == 201, "{}", paid.text());
    purchase
}

/// [`paid_purchase`] up to the checkout: the booking is made, not yet paid
/// (`booking_id` is awaiting payment).
pub fn unpaid_purchase(app: &App, title: &str, starts: &str, attendees: &[&str]) -> Purchase {
    let org = accounts::organizer(Minted);
    let venue = catalog::create_venue(app, &org.token, &catalog::ga_venue("Hall", "New York", "America/New_York"));
    let ev = catalog::create_event(app, &org.token, &catalog::event_body(&venue, title, starts));
    let event_id = ev["id"].as_str().unwrap().to_string();
    let tier_id = ev["tiers"][0]["id"].as_str().unwrap().to_string();
    catalog::publish(app, &org.token, &event_id);

    let account = accounts::customer(app);
    let (buyer, email) = (account.user(), account.email);
    let hold = app.post_as(
        &buyer.token,
        "/api/holds",
        &json!({"event_id": event_id, "tier_id": tier_id, "quantity": attendees.len()}),
    );
    assert_eq!(hold.status, 201, "{}", hold.text());
    let booking = app.post_as(
        &buyer.token,
        "/api/bookings",
        &json!({"hold_id": hold.json()["id"], "buyer": {"name": "Ada Lovelace", "email": email, "phone": "+14155550100"},
                "attendees": attendees.iter().map(|n| json!({"name": n})).collect::<Vec<_>>()}),
    );
    assert_eq!(booking.status, 201, "{}", booking.text());
    let booking_id = booking.json()["id"].as_str().unwrap().to_string();
    Purchase { org, event_id, tier_id, buyer, email, booking_id }
}
