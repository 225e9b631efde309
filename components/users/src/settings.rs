//! Notification settings: per kind (booking, ticket, reminders, marketing)
//! and channel (email, in-app), each on or off.
//!
//! Defaults: everything on except marketing, which is off until the user
//! opts in (consent for marketing must be given, not assumed: GDPR Art. 7,
//! ePrivacy Directive Art. 13). Only explicit choices are stored.
//!
//! Wire shape (GET answer; PATCH takes any subset):
//! ```json
//! {"notifications": {"booking": {"email": true, "in_app": true}, "ticket": {...},
//!                    "reminders": {...}, "marketing": {"email": false, "in_app": false}}}
//! ```

use platform::{clock, ApiResult};
use serde::{Deserialize, Serialize};
use spin_sdk::sqlite3::{Connection, Value};
use std::collections::BTreeMap;

const SELECT: &str = "SELECT kind, channel, enabled FROM notification_prefs WHERE user_id = ?";
const UPSERT: &str =
    "INSERT INTO notification_prefs (user_id, kind, channel, enabled, updated_at) VALUES (?, ?, ?, ?, ?) \
     ON CONFLICT (user_id, kind, channel) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at";
const CLEAR: &str = "DELETE FROM notification_prefs WHERE user_id = ?";

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Booking confirmations, failures, cancellations, refunds.
    Booking,
    /// Tickets issued or voided.
    Ticket,
    /// Reminders before an event.
    Reminders,
    /// Offers and news.
    Marketing,
}

impl Kind {
    /// Every kind, in wire order.
    pub const ALL: [Kind; 4] = [Kind::Booking, Kind::Ticket, Kind::Reminders, Kind::Marketing];

    fn as_str(self) -> &'static str {
        match self {
            Kind::Booking => "booking",
            Kind::Ticket => "ticket",
            Kind::Reminders => "reminders",
            Kind::Marketing => "marketing",
        }
    }

    fn default_on(self) -> bool {
        self != Kind::Marketing
    }
}

/// The two channels of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Channels {
    /// Send e-mail.
    pub email: bool,
    /// Show in the site's notification list.
    pub in_app: bool,
}

/// A user's effective settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// Per kind.
    pub notifications: BTreeMap<Kind, Channels>,
}

/// A partial change of the channels of one kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelsPatch {
    /// New e-mail choice, if given.
    pub email: Option<bool>,
    /// New in-app choice, if given.
    pub in_app: Option<bool>,
}

/// `PATCH` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    /// Kinds to change.
    pub notifications: BTreeMap<Kind, ChannelsPatch>,
}

/// Effective settings from the stored choices (pure).
pub fn effective(stored: &[(String, String, bool)]) -> Settings {
    let mut notifications = BTreeMap::new();
    for kind in Kind::ALL {
        let pick = |channel: &str| {
            stored
                .iter()
                .find(|(k, c, _)| k == kind.as_str() && c == channel)
                .map(|(_, _, on)| *on)
                .unwrap_or(kind.default_on())
        };
        notifications.insert(kind, Channels { email: pick("email"), in_app: pick("in_app") });
    }
    Settings { notifications }
}

/// The effective settings of `user_id`.
pub fn load(conn: &Connection, user_id: &str) -> ApiResult<Settings> {
    let r = conn.execute(SELECT, &[Value::Text(user_id.into())])?;
    let stored: Vec<(String, String, bool)> = r
        .rows()
        .map(|row| {
            (
                row.get::<&str>("kind").unwrap_or_default().to_string(),
                row.get::<&str>("channel").unwrap_or_default().to_string(),
                row.get::<bool>("enabled").unwrap_or(false),
            )
        })
        .collect();
    Ok(effective(&stored))
}

/// Applies `patch` to `user_id` in one transaction.
pub fn apply(conn: &Connection, user_id: &str, patch: &SettingsPatch) -> ApiResult<()> {
    let now = clock::now_ms();
    platform::db::transaction(conn, |c| -> ApiResult<()> {
        for (kind, ch) in &patch.notifications {
            for (channel, value) in [("email", ch.email), ("in_app", ch.in_app)] {
                if let Some(on) = value {
                    c.execute(
                        UPSERT,
                        &[
                            Value::Text(user_id.into()),
                            Value::Text(kind.as_str().into()),
                            Value::Text(channel.into()),
                            Value::Integer(i64::from(on)),
                            Value::Integer(now),
                        ],
                    )?;
                }
            }
        }
        Ok(())
    })
}

/// Forgets every stored choice of `user_id` (account deletion).
pub fn clear(conn: &Connection, user_id: &str) -> ApiResult<()> {
    conn.execute(CLEAR, &[Value::Text(user_id.into())])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let s = effective(&[]);
        assert!(s.notifications[&Kind::Booking].email && s.notifications[&Kind::Booking].in_app);
        assert!(!s.notifications[&Kind::Marketing].email);
        let s = effective(&[("marketing".into(), "email".into(), true), ("booking".into(), "in_app".into(), false)]);
        assert!(s.notifications[&Kind::Marketing].email && !s.notifications[&Kind::Marketing].in_app);
        assert!(!s.notifications[&Kind::Booking].in_app && s.notifications[&Kind::Booking].email);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["notifications"]["reminders"]["in_app"], true);
    }

    #[test]
    fn patch_rejects_unknown_kinds_and_fields() {
        assert!(serde_json::from_str::<SettingsPatch>(r#"{"notifications":{"spam":{"email":true}}}"#).is_err());
        assert!(serde_json::from_str::<SettingsPatch>(r#"{"notifications":{"booking":{"sms":true}}}"#).is_err());
        assert!(serde_json::from_str::<SettingsPatch>(r#"{"notifications":{"booking":{"email":"yes"}}}"#).is_err());
        assert!(serde_json::from_str::<SettingsPatch>(r#"{"notifications":{"booking":{"email":false}}}"#).is_ok());
    }
}
