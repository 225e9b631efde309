//! Shared conventions of the Boxoffice components (docs/DESIGN.md §6).
//!
//! Every component builds its HTTP surface from the pieces here so that the
//! whole API speaks one dialect:
//!
//! * [`problem`]: the one error type of the API ([`ApiError`]), rendered as
//!   RFC 9457 `application/problem+json` with a stable `type` per kind.
//! * [`web`]: request/response helpers — JSON bodies, query strings, request
//!   ids, the caller's address, and [`web::serve`], which runs a
//!   [`web::Router`], turns its plain-text 404/405 into problem+json and
//!   logs the request's access line.
//! * [`health`]: the `GET <prefix>/health` answer every component gives.
//! * [`db`]: idempotent SQLite migrations and small typed row accessors.
//! * [`event_access`]: an event's organizer and door staff, asked of
//!   `events-internal` (check-in and refund authorization).
//! * [`log`]: one JSON object per log line on stderr, the per-request
//!   context (component, request id, route) and the request id forwarded
//!   on outgoing calls.
//! * [`ids`]: opaque, URL-safe, time-sortable identifiers.
//! * [`config`]: Spin variables with defaults.
//! * [`secrets`]: secret variables, refused with their published
//!   development values outside the sandbox.
//! * [`clock`]: the current time as Unix milliseconds and RFC 3339 text.
//! * [`compress`]: gzip of large JSON answers for clients that accept it.
//! * [`seat`]: seat ids as people read them (`Section A, Row 1, Seat 5`).
//! * [`zones`]: local times and calendar `VTIMEZONE`s, asked of events
//!   (the one component that bundles the tz database).
//! * [`idempotency`]: `Idempotency-Key` handling for state-creating POSTs
//!   (claim once, replay the stored answer, 409 while in flight, 422 on reuse).

pub mod auth;
pub mod clock;
pub mod compress;
pub mod config;
pub mod contact;
pub mod db;
pub mod event_access;
pub mod event_status;
pub mod health;
pub mod idempotency;
pub mod ids;
pub mod log;
pub mod money;
pub mod problem;
pub mod seat;
pub mod secrets;
pub mod tier;
pub mod web;
pub mod zones;

pub use problem::{ApiError, ApiResult, FieldError, MAX_FIELD_ERRORS};
