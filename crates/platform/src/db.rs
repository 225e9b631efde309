//! SQLite access: labelled connections, idempotent migrations, row helpers.
//!
//! Spin has no migration runner on every platform (docs/DESIGN.md §5), so each
//! component applies its own migrations on open. Migrations are numbered SQL
//! files under `sql/<component>/` embedded with `include_str!`; the applied
//! versions are recorded in `schema_migrations`. Spin's `execute` runs ONE
//! statement, so a migration file is split into statements by
//! [`split_statements`] (which understands quotes, comments and
//! `CREATE TRIGGER ... BEGIN ... END` bodies).

use spin_sdk::sqlite3::{Connection, Error, QueryResult, Value};

/// One migration: a strictly increasing `version`, a name, and its SQL text.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Version number; migrations apply in ascending order, each once.
    pub version: i64,
    /// Short name, recorded for operators.
    pub name: &'static str,
    /// SQL text, possibly several statements.
    pub sql: &'static str,
}

/// Opens database `label` (as granted in `spin.toml`), sets a busy timeout
/// and foreign keys for this connection, puts a local database file in WAL
/// mode, and applies any pending migrations.
///
/// WAL (<https://sqlite.org/wal.html>) lets readers run while one writer
/// commits; with Spin's default rollback journal a read holds off every
/// writer, and a sale rush of 32 buyers hit the 5 s busy timeout. The mode
/// is persistent in the file, so after the first open the pragma only reads
/// it back; a backend without journal modes (remote libSQL) refuses it,
/// which is logged and otherwise harmless.
///
/// `synchronous = NORMAL` (per connection): in WAL mode a commit then
/// appends to the WAL without an fsync, which happens at checkpoints
/// instead (<https://sqlite.org/pragma.html#pragma_synchronous>). The file
/// stays consistent whatever happens; what a power loss or kernel crash
/// (not a crash of Spin or of a component) may undo is the last commits
/// before it. The money side is covered by the provider being the record
/// of payments (the payments tick reconciles intents it has not heard
/// about), and the saga's outbox re-delivers what a consumer did not
/// record. It takes one fsync per write transaction off every request
/// (an order through hold → book → pay → tickets commits a few dozen): on
/// the bench's on-sale phase (2,000 seats, 8 buyers, local runner, shared
/// box) host CPU per order went from 53 to 48 ms and the sell-out from 50
/// to 33 s. Remote libSQL ignores it.
///
/// Errors: the database is missing, not granted, or a migration failed.
pub fn open(label: &str, migrations: &[Migration]) -> Result<Connection, Error> {
    let conn = Connection::open(label)?;
    // Connection-level settings; both are no-ops on backends without them.
    conn.execute("PRAGMA busy_timeout = 5000", &[])?;
    if let Err(e) = conn.execute("PRAGMA journal_mode = WAL", &[]) {
        crate::log::warn!("sqlite {label}: journal_mode=WAL not applied: {e:?}");
    }
    conn.execute("PRAGMA synchronous = NORMAL", &[])?;
    conn.execute("PRAGMA foreign_keys = ON", &[])?;
    migrate(&conn, migrations)?;
    Ok(conn)
}

/// Applies pending `migrations` to `conn`, each in its own
/// `BEGIN IMMEDIATE` transaction so that concurrent first requests apply a
/// migration exactly once (the loser waits, then sees it recorded).
pub fn migrate(conn: &Connection, migrations: &[Migration]) -> Result<(), Error> {
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
        &[],
    )?;
    // Check each version, not MAX(version): shared migration sets (the saga
    // crate's outbox, versions >= 1000) are applied next to a component's own
    // 1, 2, 3..., and a component's later migration must still run.
    let applied: Vec<i64> = conn
        .execute("SELECT version AS v FROM schema_migrations", &[])?
        .rows()
        .filter_map(|r| r.get::<i64>("v"))
        .collect();
    for m in migrations.iter().filter(|m| !applied.contains(&m.version)) {
        conn.execute("BEGIN IMMEDIATE", &[])?;
        let result = apply_one(conn, m);
        match result {
            Ok(()) => conn.execute("COMMIT", &[]).map(|_| ())?,
            Err(e) => {
                rollback(conn);
                return Err(e);
            }
        }
    }
    Ok(())
}

fn apply_one(conn: &Connection, m: &Migration) -> Result<(), Error> {
    let applied = conn
        .execute("SELECT 1 FROM schema_migrations WHERE version = ?", &[Value::Integer(m.version)])?
        .rows()
        .next()
        .is_some();
    if applied {
        return Ok(());
    }
    for stmt in split_statements(m.sql) {
        conn.execute(&stmt, &[])?;
    }
    conn.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        &[Value::Integer(m.version), Value::Text(m.name.into()), Value::Integer(crate::clock::now_ms())],
    )?;
    Ok(())
}

/// Rolls back the open transaction, logging (not hiding) a failure to do so.
pub fn rollback(conn: &Connection) {
    if let Err(e) = conn.execute("ROLLBACK", &[]) {
        crate::log::error!("rollback failed: {e:?}");
    }
}

/// Runs `f` inside `BEGIN IMMEDIATE … COMMIT`, rolling back when `f` fails.
///
/// Keep `f` short: with a remote libSQL backend each statement is a round
/// trip (docs/DESIGN.md §5).
pub fn transaction<T, E: From<Error>>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E> {
    conn.execute("BEGIN IMMEDIATE", &[])?;
    match f(conn) {
        Ok(v) => match conn.execute("COMMIT", &[]) {
            Ok(_) => Ok(v),
            Err(e) => {
                rollback(conn);
                Err(e.into())
            }
        },
        Err(e) => {
            rollback(conn);
            Err(e)
        }
    }
}

/// Index of column `name` in a result, if present.
pub fn column(result: &QueryResult, name: &str) -> Option<usize> {
    result.columns.iter().position(|c| c == name)
}

/// Splits SQL text into single statements without their trailing `;`.
///
/// Handles `'...'`, `"..."`, `` `...` `` and `[...]` quoting, `--` and
/// `/* */` comments, and `CREATE TRIGGER` bodies whose inner `;` belong to
/// the trigger until its closing `END`. Empty statements are dropped.
pub fn split_statements(sql: &str) -> Vec<String> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut in_trigger = false;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\'' | b'"' | b'`' => {
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == c {
                        if i + 1 < bytes.len() && bytes[i + 1] == c {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
            }
            b'[' => {
                while i < bytes.len() && bytes[i] != b']' {
                    i += 1;
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b';' => {
                let stmt = strip_comments(&sql[start..i]);
                if !in_trigger && starts_trigger(&stmt) && !ends_with_end(&stmt) {
                    in_trigger = true;
                } else if in_trigger && !ends_with_end(&stmt) {
                    // still inside the trigger body
                } else {
                    if !stmt.trim().is_empty() {
                        out.push(stmt.trim().to_string());
                    }
                    in_trigger = false;
                    start = i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    let tail = strip_comments(&sql[start.min(sql.len())..]);
    if !tail.trim().is_empty() {
        out.push(tail.trim().to_string());
    }
    out
}

fn strip_comments(s: &str) -> String {
    s.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n")
}

fn starts_trigger(stmt: &str) -> bool {
    let words: Vec<String> = stmt.split_whitespace().take(4).map(|w| w.to_ascii_uppercase()).collect();
    words.first().map(String::as_str) == Some("CREATE")
        && (words.get(1).map(String::as_str) == Some("TRIGGER")
            || (matches!(words.get(1).map(String::as_str), Some("TEMP") | Some("TEMPORARY"))
                && words.get(2).map(String::as_str) == Some("TRIGGER")))
}

fn ends_with_end(stmt: &str) -> bool {
    stmt.trim_end().to_ascii_uppercase().ends_with("END")
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn splits_plain_statements() {
        let s = split_statements("CREATE TABLE a (x TEXT);\n-- comment; here\nINSERT INTO a VALUES ('x;y');\n");
        assert_eq!(s, vec!["CREATE TABLE a (x TEXT)", "INSERT INTO a VALUES ('x;y')"]);
    }

    #[test]
    fn keeps_trigger_bodies_whole() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  INSERT INTO b VALUES (new.x);\n  DELETE FROM c;\nEND;\nCREATE INDEX i ON a(x);";
        let s = split_statements(sql);
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].starts_with("CREATE TRIGGER") && s[0].ends_with("END"));
        assert_eq!(s[1], "CREATE INDEX i ON a(x)");
    }

    #[test]
    fn handles_block_comments_and_escaped_quotes() {
        let s = split_statements("/* a; b */ SELECT 'it''s; fine'; SELECT 2");
        assert_eq!(s.len(), 2);
        assert!(s[0].contains("it''s; fine"));
    }
}
