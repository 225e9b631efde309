//! SQLite databases by label: `fermyon:spin/sqlite@2.0.0` and
//! `spin:sqlite/sqlite@3.0.0`.
//!
//! As in Spin, every `open` makes a fresh connection; the runner sets no
//! pragmas (no WAL unless the app asks; rusqlite's default 5 s busy timeout
//! applies), and attaching other database files is refused. SQLite errors,
//! including SQLITE_BUSY, reach the guest as `io(message)`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;
use wasmtime::component::Resource;

use crate::bindings::fermyon::spin::sqlite as v2;
use crate::bindings::spin::sqlite::sqlite as v3;
use crate::manifest::StoreLocation;
use crate::HostState;

pub enum DbError {
    NoSuchDatabase,
    AccessDenied,
    Io(String),
}

fn io(e: impl std::fmt::Display) -> DbError {
    DbError::Io(e.to_string())
}

/// Per-request SQLite state.
pub struct SqliteState {
    pub locations: Arc<BTreeMap<String, StoreLocation>>,
    pub allowed: Arc<Vec<String>>,
}

/// One open connection (shared resource type for both interface versions).
pub struct ConnHandle {
    conn: Mutex<Connection>,
}

/// A `fermyon:spin/sqlite@2.0.0` connection (a distinct resource type).
pub struct ConnV2(ConnHandle);

struct Rows {
    columns: Vec<String>,
    rows: Vec<Vec<SqlValue>>,
}

impl SqliteState {
    fn open(&self, label: &str) -> Result<ConnHandle, DbError> {
        if !self.allowed.iter().any(|l| l == label) {
            return Err(DbError::AccessDenied);
        }
        let loc = self.locations.get(label).ok_or(DbError::NoSuchDatabase)?;
        let conn = tokio::task::block_in_place(|| match loc {
            StoreLocation::InMemory => Connection::open_in_memory(),
            StoreLocation::Path(p) => {
                if let Some(parent) = p.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                Connection::open(p)
            }
        })
        .map_err(io)?;
        conn.authorizer(Some(|ctx: rusqlite::hooks::AuthContext<'_>| {
            use rusqlite::hooks::{AuthAction, Authorization};
            match ctx.action {
                AuthAction::Attach { filename } if !matches!(filename, "" | ":memory:") => Authorization::Deny,
                _ => Authorization::Allow,
            }
        }));
        Ok(ConnHandle { conn: Mutex::new(conn) })
    }
}

impl ConnHandle {
    fn execute(&self, sql: &str, params: Vec<SqlValue>) -> Result<Rows, DbError> {
        tokio::task::block_in_place(|| {
            let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
            let mut st = conn.prepare_cached(sql).map_err(io)?;
            let columns: Vec<String> = st.column_names().into_iter().map(str::to_string).collect();
            let n = st.column_count();
            let mut rows_out = Vec::new();
            let mut rows = st.query(rusqlite::params_from_iter(params)).map_err(io)?;
            while let Some(row) = rows.next().map_err(io)? {
                let mut values = Vec::with_capacity(n);
                for i in 0..n {
                    values.push(row.get::<_, SqlValue>(i).map_err(io)?);
                }
                rows_out.push(values);
            }
            Ok(Rows { columns, rows: rows_out })
        })
    }

    fn last_insert_rowid(&self) -> i64 {
        self.conn.lock().unwrap_or_else(|p| p.into_inner()).last_insert_rowid()
    }

    fn changes(&self) -> u64 {
        self.conn.lock().unwrap_or_else(|p| p.into_inner()).changes()
    }
}

// The two interface versions have identical shapes but distinct generated
// types; this macro writes the conversions once per version.
macro_rules! conversions {
    ($m:ident, $to_err:ident, $to_sql:ident, $from_sql:ident, $to_result:ident) => {
        fn $to_err(e: DbError) -> $m::Error {
            match e {
                DbError::NoSuchDatabase => $m::Error::NoSuchDatabase,
                DbError::AccessDenied => $m::Error::AccessDenied,
                DbError::Io(s) => $m::Error::Io(s),
            }
        }
        fn $to_sql(v: $m::Value) -> SqlValue {
            match v {
                $m::Value::Integer(i) => SqlValue::Integer(i),
                $m::Value::Real(f) => SqlValue::Real(f),
                $m::Value::Text(t) => SqlValue::Text(t),
                $m::Value::Blob(b) => SqlValue::Blob(b),
                $m::Value::Null => SqlValue::Null,
            }
        }
        fn $from_sql(v: SqlValue) -> $m::Value {
            match v {
                SqlValue::Integer(i) => $m::Value::Integer(i),
                SqlValue::Real(f) => $m::Value::Real(f),
                SqlValue::Text(t) => $m::Value::Text(t),
                SqlValue::Blob(b) => $m::Value::Blob(b),
                SqlValue::Null => $m::Value::Null,
            }
        }
        fn $to_result(r: Rows) -> $m::QueryResult {
            $m::QueryResult {
                columns: r.columns,
                rows: r
                    .rows
                    .into_iter()
                    .map(|vals| $m::RowResult { values: vals.into_iter().map($from_sql).collect() })
                    .collect(),
            }
        }
    };
}

conversions!(v2, v2_err, v2_to_sql, v2_from_sql, v2_result);
conversions!(v3, v3_err, v3_to_sql, v3_from_sql, v3_result);

impl v2::Host for HostState {}

impl v2::HostConnection for HostState {
    async fn open(&mut self, database: String) -> wasmtime::Result<Result<Resource<ConnV2>, v2::Error>> {
        Ok(match self.sqlite.open(&database) {
            Ok(c) => Ok(self.table.push(ConnV2(c))?),
            Err(e) => Err(v2_err(e)),
        })
    }

    async fn execute(
        &mut self,
        conn: Resource<ConnV2>,
        statement: String,
        parameters: Vec<v2::Value>,
    ) -> wasmtime::Result<Result<v2::QueryResult, v2::Error>> {
        let params = parameters.into_iter().map(v2_to_sql).collect();
        Ok(self.table.get(&conn)?.0.execute(&statement, params).map(v2_result).map_err(v2_err))
    }

    async fn drop(&mut self, conn: Resource<ConnV2>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        Ok(())
    }
}

impl v3::Host for HostState {}

impl v3::HostConnection for HostState {
    async fn open(&mut self, database: String) -> wasmtime::Result<Result<Resource<ConnHandle>, v3::Error>> {
        Ok(match self.sqlite.open(&database) {
            Ok(c) => Ok(self.table.push(c)?),
            Err(e) => Err(v3_err(e)),
        })
    }

    async fn execute(
        &mut self,
        conn: Resource<ConnHandle>,
        statement: String,
        parameters: Vec<v3::Value>,
    ) -> wasmtime::Result<Result<v3::QueryResult, v3::Error>> {
        let params = parameters.into_iter().map(v3_to_sql).collect();
        Ok(self.table.get(&conn)?.execute(&statement, params).map(v3_result).map_err(v3_err))
    }

    async fn last_insert_rowid(&mut self, conn: Resource<ConnHandle>) -> wasmtime::Result<i64> {
        Ok(self.table.get(&conn)?.last_insert_rowid())
    }

    async fn changes(&mut self, conn: Resource<ConnHandle>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&conn)?.changes())
    }

    async fn drop(&mut self, conn: Resource<ConnHandle>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        Ok(())
    }
}
