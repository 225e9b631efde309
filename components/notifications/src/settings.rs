//! The user's notification settings and address, owned by the `users`
//! component and read over service chaining:
//! `GET http://users-internal.spin.internal/api/users/internal/{id}/contact` →
//! `{"user_id","email","display_name","notifications":{"booking":{"email":true,"in_app":true},"ticket":{…},…}}`.
//!
//! When `users` cannot answer, everything counts as on (a notification the
//! user might not have wanted is better than a lost one), and the ticket
//! email is sent whatever the settings say (transactional,
//! [`crate::jobs::TRANSACTIONAL`]).

use serde_json::Value as Json;
use spin_sdk::http::{Method, Request};

/// A user's contact data and settings as `users` reports them.
#[derive(Debug, Clone, Default)]
pub struct Contact {
    /// Account e-mail address.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    prefs: Json,
}

impl Contact {
    /// Builds a contact from the `users` answer.
    pub fn from_json(v: &Json) -> Contact {
        Contact {
            email: v["email"].as_str().filter(|e| e.contains('@')).map(str::to_string),
            name: v["display_name"].as_str().filter(|n| !n.is_empty()).map(str::to_string),
            prefs: v["notifications"].clone(),
        }
    }

    /// Whether notifications of settings kind `kind` (`booking`, `ticket`,
    /// …) may use `channel` (`email`, `in_app`); unknown means yes.
    pub fn allows(&self, kind: &str, channel: &str) -> bool {
        self.prefs[kind][channel].as_bool().unwrap_or(true)
    }
}

/// Fetches `user_id`'s contact; `None` when `users` is unreachable or
/// does not know the user.
pub fn fetch(user_id: &str) -> Option<Contact> {
    if !platform::ids::is_valid("usr", user_id) {
        return None;
    }
    let req = Request::builder()
        .method(Method::Get)
        .uri(format!("http://users-internal.spin.internal/api/users/internal/{user_id}/contact"))
        .build();
    match platform::web::send(req) {
        Ok(resp) if *resp.status() == 200 => {
            serde_json::from_slice::<Json>(resp.body()).ok().map(|v| Contact::from_json(&v))
        }
        Ok(resp) => {
            platform::log::warn!("notifications: users contact of {user_id}: {}", resp.status());
            None
        }
        Err(e) => {
            platform::log::warn!("notifications: users contact of {user_id}: {e}");
            None
        }
    }
}

/// Whether `user_id` wants e-mail of settings kind `kind` (default on).
pub fn email_enabled(user_id: &str, kind: &str) -> bool {
    fetch(user_id).map(|c| c.allows(kind, "email")).unwrap_or(true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_settings_and_defaults_to_on() {
        let v = serde_json::json!({"email":"ada@example.com","display_name":"Ada",
            "notifications":{"booking":{"email":false,"in_app":true}}});
        let c = super::Contact::from_json(&v);
        assert!(!c.allows("booking", "email"));
        assert!(c.allows("booking", "in_app"));
        assert!(c.allows("ticket", "email"));
        assert_eq!(c.email.as_deref(), Some("ada@example.com"));
        assert!(super::Contact::default().allows("booking", "email"));
    }
}
