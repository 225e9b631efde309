//! Configuration: Spin variables only (docs/DESIGN.md §6).
//!
//! Names are lower snake case (`hold_ttl_seconds`); each can be overridden by
//! the environment as `SPIN_VARIABLE_<NAME>` in Spin and in the local runner.
//! A variable the component is not granted, or one with no value, reads as
//! `None`.

/// The value of variable `name`, or `None` when it is undefined or empty.
pub fn get(name: &str) -> Option<String> {
    match spin_sdk::variables::get(name) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => None,
    }
}

/// The value of `name`, or `default` when undefined.
pub fn get_or(name: &str, default: &str) -> String {
    get(name).unwrap_or_else(|| default.to_string())
}

/// The value of `name` parsed as `T`, or `default` when undefined or
/// unparsable (an unparsable value is logged).
pub fn parsed_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match get(name) {
        None => default,
        Some(v) => v.parse().unwrap_or_else(|_| {
            crate::log::warn!("variable {name} has an invalid value; using the default");
            default
        }),
    }
}

/// A boolean variable: `true`, `1`, `yes`, `on` are true (case-insensitive).
pub fn flag(name: &str, default: bool) -> bool {
    match get(name) {
        None => default,
        Some(v) => matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on"),
    }
}

/// A required variable; an error naming it when missing.
pub fn required(name: &str) -> anyhow::Result<String> {
    get(name).ok_or_else(|| anyhow::anyhow!("required variable `{name}` is not set"))
}
