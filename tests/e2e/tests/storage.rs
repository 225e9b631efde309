//! How the app's SQLite databases are set up on the local (file) backend.

use e2e::App;

#[test]
fn databases_opened_by_components_run_in_wal_mode() {
    let app = App::spawn();
    // Any request that opens a database through platform::db::open.
    assert_eq!(app.get("/api/events?limit=1").status, 200);
    let login = e2e::json!({"email": "nobody@example.com", "password": "not-the-password"});
    assert_eq!(app.post("/api/auth/login", &login).status, 401);
    for db in ["events.db", "auth.db"] {
        let path = app.state_dir().join(db);
        let conn = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).expect("journal_mode");
        assert_eq!(mode, "wal", "{db}");
    }
}
