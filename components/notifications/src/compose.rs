//! What the messages say: subjects, HTML and plain-text email bodies, and
//! in-site message texts, built from saga payloads.
//!
//! Both parts of every e-mail are askama templates in `templates/`
//! (compiled into the component): `*.html` auto-escapes every value it
//! writes — names, titles, reasons, codes, links — for HTML text and
//! quoted attributes (`&`, `<`, `>`, `"`, `'` as numeric character
//! references, `&#38;` `&#60;` `&#62;` `&#34;` `&#39;`), so no value can
//! open markup; `*.txt` escapes nothing and carries values as they are.
//! A value is never escaped by hand here.
//!
//! The platform's own sentences never begin with text a buyer typed: the
//! greeting is a plain "Hello," (a booking's free-text buyer name used to
//! open the mail, so "Hello URGENT: your bank account is locked - verify at
//! …," read as Boxoffice speaking; issue 17, item 6), and attendee names
//! appear only after an `Attendee:` label, as data.

use askama::Template;

/// Integer minor units of an ISO 4217 currency for people: `USD 90.00`,
/// `JPY 1200`, `KWD 1.500` ([`platform::money::format`]).
pub fn money(amount_minor: i64, currency: &str) -> String {
    platform::money::format(amount_minor, currency)
}

/// A composed email.
#[derive(Debug, Clone, PartialEq)]
pub struct Email {
    /// Subject line (plain text).
    pub subject: String,
    /// HTML body (a complete document).
    pub html: String,
    /// Plain-text body.
    pub text: String,
}

/// A composed in-site message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Short title.
    pub title: String,
    /// One or two sentences, plain text.
    pub body: String,
    /// Site-relative link, when there is somewhere to go.
    pub link: Option<String>,
}

/// One ticket of the tickets e-mail, as `TicketsIssued` carries it.
pub use saga::contract::IssuedTicket as TicketLine;

/// Renders one part of an e-mail; a template whose values fail to format
/// (none of ours can: they are strings and numbers) renders empty and is
/// logged.
fn render(part: &impl Template) -> String {
    part.render().unwrap_or_else(|e| {
        platform::log::error!("notifications: an e-mail template failed to render: {e}");
        String::new()
    })
}

fn absolute(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}

/// The greeting every mail opens with: the platform's voice, no user text.
pub const GREETING: &str = "Hello,";

/// The tickets email: every ticket of one booking in ONE message, each with
/// its attendee (labelled), seat (or general admission), its signed code,
/// and links to the ticket page (QR code) and its calendar file; `venue` is
/// where the event is (one line; empty: not said). `base` is
/// the public base URL of the site (may be empty: links are then
/// site-relative).
pub fn tickets_email(
    event_title: &str,
    when: &str,
    venue: &str,
    booking_id: &str,
    tickets: &[TicketLine],
    base: &str,
) -> Email {
    let subject = format!("Your tickets for {event_title}");
    let n = tickets.len();
    let rows = tickets
        .iter()
        .enumerate()
        .map(|(i, t)| TicketRow {
            number: i + 1,
            seat: platform::seat::label(t.seat_id.as_deref()),
            attendee: &t.attendee,
            code: &t.code,
            link: absolute(base, &format!("/tickets/{}", t.ticket_id)),
            calendar: absolute(
                base,
                &if t.calendar_url.is_empty() {
                    format!("/api/tickets/{}.ics", t.ticket_id)
                } else {
                    t.calendar_url.clone()
                },
            ),
        })
        .collect();
    let mail = TicketsMail {
        greeting: GREETING,
        verb: if n == 1 { "is" } else { "are" },
        n,
        plural: if n == 1 { "ticket" } else { "tickets" },
        event_title,
        when,
        venue,
        booking_id,
        tickets: rows,
    };
    Email {
        html: render(&TicketsHtml { subject: &subject, m: &mail }),
        text: render(&TicketsText { m: &mail }),
        subject,
    }
}

/// One ticket's lines in the tickets e-mail.
struct TicketRow<'a> {
    /// 1-based position in the mail.
    number: usize,
    /// `Section S1, Row A, Seat 1`, or `General admission` ([`platform::seat::label`]).
    seat: String,
    attendee: &'a str,
    code: &'a str,
    /// The ticket page (QR code).
    link: String,
    /// The ticket's calendar file.
    calendar: String,
}

/// What both parts of the tickets e-mail say.
struct TicketsMail<'a> {
    greeting: &'a str,
    /// `is` or `are`, for `n`.
    verb: &'a str,
    n: usize,
    /// `ticket` or `tickets`, for `n`.
    plural: &'a str,
    event_title: &'a str,
    when: &'a str,
    venue: &'a str,
    booking_id: &'a str,
    tickets: Vec<TicketRow<'a>>,
}

#[derive(Template)]
#[template(path = "tickets.html")]
struct TicketsHtml<'a> {
    subject: &'a str,
    m: &'a TicketsMail<'a>,
}

#[derive(Template)]
#[template(path = "tickets.txt")]
struct TicketsText<'a> {
    m: &'a TicketsMail<'a>,
}

/// What the buyer is told about a booking: it closed unpaid (`PaymentFailed`), or its event moved (`EventRescheduled`).
#[derive(Debug, Clone, PartialEq)]
pub struct BuyerNotice {
    /// Message kind: `hold_expired`, `sales_closed`, `payment_failed` or `event_rescheduled`.
    pub kind: &'static str,
    /// In-site title.
    pub title: String,
    /// Email subject.
    pub subject: String,
    /// The one paragraph both channels carry.
    pub body: String,
}

/// The notice for `PaymentFailed` of booking `booking_id`. Reason
/// `hold_expired` (payments' tick: the hold ran out with no payment made or
/// in flight) says the hold expired and nothing was charged; `sales_closed`
/// (the buyer tried to pay after the event's sales closed) says so, and
/// that nothing was charged; any other
/// reason (a provider decline code, …) says the payment did not go
/// through. `event` is the event's title and `when` its local start time;
/// either may be unknown and is then left out — never replaced by a
/// placeholder.
pub fn unpaid_notice(booking_id: &str, event: Option<&str>, when: Option<&str>, reason: Option<&str>) -> BuyerNotice {
    let event = event.map(str::trim).filter(|t| !t.is_empty());
    let what = match (event, when.filter(|w| !w.is_empty())) {
        (Some(t), Some(w)) => format!(" for {t} on {w}"),
        (Some(t), None) => format!(" for {t}"),
        _ => String::new(),
    };
    let of = event.map(|t| format!(" for {t}")).unwrap_or_default();
    if reason == Some("hold_expired") {
        return BuyerNotice {
            kind: "hold_expired",
            title: event.map(|t| format!("Hold expired: {t}")).unwrap_or_else(|| "Your ticket hold expired".into()),
            subject: format!("Your ticket hold{of} expired"),
            body: format!(
                "Your hold on tickets{what} (booking {booking_id}) expired before it was paid, so the booking was not completed. \
                 Nothing was charged. The seats are back on sale; you can book again while tickets are left."
            ),
        };
    }
    if reason == Some("sales_closed") {
        return BuyerNotice {
            kind: "sales_closed",
            title: event.map(|t| format!("Sales closed: {t}")).unwrap_or_else(|| "Sales closed".into()),
            subject: format!("Sales{of} closed before your booking was paid"),
            body: format!(
                "Sales of tickets{what} closed before booking {booking_id} was paid, so the booking was not completed. \
                 Nothing was charged and the places were released."
            ),
        };
    }
    let reason = reason.filter(|r| !r.is_empty()).unwrap_or("declined").replace('_', " ");
    BuyerNotice {
        kind: "payment_failed",
        title: event.map(|t| format!("Payment failed: {t}")).unwrap_or_else(|| "Payment failed".into()),
        subject: format!("Payment failed{of}"),
        body: format!(
            "Your payment for booking {booking_id}{what} did not go through ({reason}), so the booking was not completed. \
             No money was taken; you can book again while tickets are left."
        ),
    }
}

/// The notice for `EventRescheduled` to the buyer of booking `booking_id`:
/// `title` moved to `now` (local time), from `was` when known.
pub fn rescheduled_notice(title: &str, booking_id: &str, now: &str, was: Option<&str>) -> BuyerNotice {
    let was = was.filter(|w| !w.is_empty() && *w != now).map(|w| format!(" (it was {w})")).unwrap_or_default();
    BuyerNotice {
        kind: "event_rescheduled",
        title: format!("New time: {title}"),
        subject: format!("{title} has moved to {now}"),
        body: format!(
            "The organizer moved {title} to {now}{was}. Your booking {booking_id} and its tickets are valid for the new time, \
             and the calendar file on each ticket shows it. If you cannot come, you can cancel the booking from your bookings page before the event starts."
        ),
    }
}

/// The password-reset e-mail with its single-use link `url` (made by auth;
/// it works for one hour, once).
pub fn password_reset_email(url: &str) -> Email {
    simple_email(
        "Choose a new Boxoffice password",
        &[
            format!("Someone (we hope you) asked to choose a new password for your Boxoffice account. Open this link to do it: {url}"),
            "The link works for one hour, once. If you did not ask, ignore this message: your password stays as it is.".into(),
        ],
    )
}

/// The e-mail that confirms a new account's address, with its link `url`
/// (made by auth; it works for 24 hours).
pub fn email_verification_email(url: &str) -> Email {
    simple_email(
        "Confirm your Boxoffice e-mail address",
        &[
            format!("Welcome to Boxoffice! Open this link to confirm that this is your e-mail address: {url}"),
            "The link works for 24 hours. You can buy tickets before you confirm; organizer and staff accounts need a confirmed address. \
             If you did not create an account, ignore this message."
                .into(),
        ],
    )
}

/// Wraps plain paragraphs as an email opening with [`GREETING`]: the text
/// body is the paragraphs separated by blank lines, the HTML body one
/// `<p>` per paragraph.
pub fn simple_email(subject: &str, paragraphs: &[String]) -> Email {
    let html = SimpleHtml { subject, greeting: GREETING, paragraphs };
    let text = SimpleText { greeting: GREETING, paragraphs };
    Email { subject: subject.to_string(), html: render(&html), text: render(&text) }
}

#[derive(Template)]
#[template(path = "simple.html")]
struct SimpleHtml<'a> {
    subject: &'a str,
    greeting: &'a str,
    paragraphs: &'a [String],
}

#[derive(Template)]
#[template(path = "simple.txt")]
struct SimpleText<'a> {
    greeting: &'a str,
    paragraphs: &'a [String],
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE_TITLE: &str = "<script>alert(\"x\")</script> & 'Rock'";
    const HOSTILE_NAME: &str = "Ada \"<b>\" & O'Brien";

    #[test]
    fn hostile_titles_and_names_are_escaped_in_html_and_verbatim_in_text() {
        let tickets = vec![TicketLine {
            ticket_id: "tkt_1".into(),
            code: "k.tkt_1.evt.sig1".into(),
            attendee: HOSTILE_NAME.into(),
            seat_id: None,
            tier_id: "tier_1".into(),
            calendar_url: "/api/tickets/tkt_1.ics?k=a&expires=1&sig=b".into(),
        }];
        let e = tickets_email(HOSTILE_TITLE, "Friday", "<Club> & Bar", "bkg_1", &tickets, "");
        let title = "&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;Rock&#39;";
        assert!(e.html.contains(&format!("<title>Your tickets for {title}</title>")), "{}", e.html);
        assert!(e.html.contains(&format!("<strong>{title}</strong>")), "{}", e.html);
        assert!(
            e.html.contains("Attendee: <strong>Ada &#34;&#60;b&#62;&#34; &#38; O&#39;Brien</strong>"),
            "{}",
            e.html
        );
        assert!(e.html.contains("href=\"/api/tickets/tkt_1.ics?k=a&#38;expires=1&#38;sig=b\""), "{}", e.html);
        assert!(
            e.html.contains("Where: <strong>&#60;Club&#62; &#38; Bar</strong>"),
            "the venue is escaped too: {}",
            e.html
        );
        for raw in ["<script>", "<b>", "\"x\"", "'Rock'", "O'Brien", "& "] {
            assert!(!e.html.contains(raw), "{raw} reached the HTML as markup: {}", e.html);
        }
        assert!(e.text.contains(&format!("for {HOSTILE_TITLE} on Friday")), "{}", e.text);
        assert!(e.text.contains(&format!("  Attendee: {HOSTILE_NAME}\n")), "{}", e.text);
        assert!(e.text.contains("  Calendar: /api/tickets/tkt_1.ics?k=a&expires=1&sig=b\n"), "{}", e.text);
        assert!(!e.text.contains("&#"), "the text part is not escaped: {}", e.text);

        let s = simple_email(HOSTILE_TITLE, &[format!("{HOSTILE_NAME} wrote")]);
        assert!(
            s.html.contains(&format!("<title>{title}</title>"))
                && s.html.contains("<p>Ada &#34;&#60;b&#62;&#34; &#38; O&#39;Brien wrote</p>"),
            "{}",
            s.html
        );
        assert_eq!(s.text, format!("Hello,\n\n{HOSTILE_NAME} wrote\n\n"));
    }

    #[test]
    fn text_parts_read_as_before_the_templates() {
        let tickets = vec![
            TicketLine {
                ticket_id: "tkt_1".into(),
                code: "c1".into(),
                attendee: "Ada".into(),
                seat_id: Some("S1-A-1".into()),
                tier_id: "tier_1".into(),
                calendar_url: String::new(),
            },
            TicketLine {
                ticket_id: "tkt_2".into(),
                code: "c2".into(),
                attendee: "Bob".into(),
                seat_id: None,
                tier_id: "tier_1".into(),
                calendar_url: "/cal?x=1".into(),
            },
        ];
        let e = tickets_email(
            "Jazz",
            "Friday",
            "Blue Note, 131 W 3rd St, New York, US",
            "bkg_1",
            &tickets,
            "https://box.example/",
        );
        assert_eq!(
            e.text,
            "Hello,\n\nhere are your 2 tickets for Jazz on Friday (booking bkg_1).\n\
             Where: Blue Note, 131 W 3rd St, New York, US\n\
             Show the QR code on the ticket page at the door; the code below is what it holds.\n\n\
             Ticket 1 of 2, Section S1, Row A, Seat 1\n  Attendee: Ada\n  Code: c1\n  Ticket: https://box.example/tickets/tkt_1\n  Calendar: https://box.example/api/tickets/tkt_1.ics\n\n\
             Ticket 2 of 2, General admission\n  Attendee: Bob\n  Code: c2\n  Ticket: https://box.example/tickets/tkt_2\n  Calendar: https://box.example/cal?x=1\n\n\
             Enjoy the show!\n"
        );
        let one = tickets_email("Jazz", "Friday", "", "bkg_1", &tickets[..1], "");
        assert!(!one.text.contains("Where:") && !one.html.contains("Where:"), "no venue line without a venue");
        assert!(
            one.text.contains("here is your 1 ticket for Jazz") && one.html.contains("here is your 1 ticket for"),
            "{}",
            one.text
        );
        let r = password_reset_email("https://box.example/#/reset/t");
        assert!(
            r.text.starts_with("Hello,\n\nSomeone (we hope you)") && r.text.ends_with("stays as it is.\n\n"),
            "{:?}",
            r.text
        );
        assert!(r.html.starts_with("<!doctype html>") && r.html.ends_with("</body></html>"), "{}", r.html);
    }

    #[test]
    fn tickets_email_carries_every_ticket_escaped() {
        let tickets = vec![
            TicketLine {
                ticket_id: "tkt_1".into(),
                code: "k.tkt_1.evt.sig1".into(),
                attendee: "Ada <b>".into(),
                seat_id: Some("S1-A-1".into()),
                tier_id: "tier_1".into(),
                calendar_url: "https://box.example/api/tickets/tkt_1/calendar.ics?sig=a&b".into(),
            },
            TicketLine {
                ticket_id: "tkt_2".into(),
                code: "k.tkt_2.evt.sig2".into(),
                attendee: "Bob".into(),
                seat_id: None,
                tier_id: "tier_1".into(),
                calendar_url: String::new(),
            },
        ];
        let e = tickets_email("Rock <Night>", "Friday", "", "bkg_1", &tickets, "https://box.example/");
        assert_eq!(e.subject, "Your tickets for Rock <Night>");
        for t in &tickets {
            assert!(e.text.contains(&t.code) && e.html.contains(&t.code));
        }
        assert!(e.html.contains("Ada &#60;b&#62;") && !e.html.contains("Ada <b>"));
        assert!(e.html.contains("Rock &#60;Night&#62;") && e.html.contains("<p>Hello,</p>"));
        assert!(
            e.text.starts_with("Hello,\n")
                && e.text.contains("Attendee: Ada <b>")
                && e.text.contains("General admission")
        );
        assert!(e.html.contains("Attendee: <strong>Ada &#60;b&#62;</strong>"), "{}", e.html);
        assert!(e.text.contains("https://box.example/tickets/tkt_2"));
    }

    #[test]
    fn an_expired_hold_says_so_and_never_shows_a_placeholder() {
        let n = unpaid_notice("bkg_1", Some("Rock Night"), Some("Friday 1 May 2026, 19:00 EDT"), Some("hold_expired"));
        assert_eq!(n.kind, "hold_expired");
        assert_eq!(n.subject, "Your ticket hold for Rock Night expired");
        assert!(
            n.body.contains("for Rock Night on Friday 1 May 2026") && n.body.contains("Nothing was charged"),
            "{}",
            n.body
        );
        assert!(!n.body.to_lowercase().contains("payment failed"));
        let closed = unpaid_notice("bkg_1", Some("Rock Night"), None, Some("sales_closed"));
        assert_eq!(closed.kind, "sales_closed");
        assert!(
            closed.body.contains("Nothing was charged") && closed.subject.contains("Rock Night"),
            "{}",
            closed.body
        );
        let moved = rescheduled_notice(
            "Rock Night",
            "bkg_1",
            "Saturday 2 May 2026, 20:00 EDT",
            Some("Friday 1 May 2026, 19:00 EDT"),
        );
        assert!(
            moved.body.contains("to Saturday 2 May 2026, 20:00 EDT (it was Friday 1 May 2026, 19:00 EDT)"),
            "{}",
            moved.body
        );
        let bare = unpaid_notice("bkg_1", None, None, Some("hold_expired"));
        assert_eq!(bare.title, "Your ticket hold expired");
        assert!(bare.body.starts_with("Your hold on tickets (booking bkg_1) expired"), "{}", bare.body);
        for n in [bare, unpaid_notice("bkg_1", Some(" "), None, Some("card_declined"))] {
            assert!(!n.body.contains("your booking)") && !n.subject.ends_with(' ') && !n.body.contains("  "), "{n:?}");
        }
        let d = unpaid_notice("bkg_2", Some("Jazz"), None, Some("card_declined"));
        assert_eq!((d.kind, d.subject.as_str()), ("payment_failed", "Payment failed for Jazz"));
        assert!(d.body.contains("(card declined)") && d.body.contains("No money was taken"), "{}", d.body);
    }

    #[test]
    fn money_formats_minor_units() {
        assert_eq!(money(9000, "USD"), "USD 90.00");
        assert_eq!(money(5, "EUR"), "EUR 0.05");
        assert_eq!(money(1200, "JPY"), "JPY 1200");
        assert_eq!(money(4500, "KWD"), "KWD 4.500");
    }
}
