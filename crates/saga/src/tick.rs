//! The guard of `POST /api/<prefix>/tick` (docs/DESIGN.md §3).

use platform::{ApiError, ApiResult};
use spin_sdk::http::Request;

/// Checks `Authorization: Bearer <token>` against the secret Spin variable
/// `tick_token` in constant time.
///
/// Errors: 503 naming `tick_token` when it is not configured, or still
/// holds its published value outside the sandbox (ticks are then off,
/// [`platform::secrets`]); 401 when the header is missing or wrong.
pub fn require_tick(req: &Request) -> ApiResult<()> {
    let expected = platform::secrets::require("tick_token")?;
    match platform::web::bearer_token(req) {
        Some(given) if constant_time_eq(given.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(ApiError::Unauthorized("the tick route needs the tick token".into())),
    }
}

/// `subtle`'s constant-time comparison (unequal lengths compare unequal).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn constant_time_eq_compares() {
        assert!(super::constant_time_eq(b"abc", b"abc"));
        assert!(!super::constant_time_eq(b"abc", b"abd"));
        assert!(!super::constant_time_eq(b"abc", b"ab"));
    }
}
