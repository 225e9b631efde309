//! A private `redis-server` for tests that run several Spin instances on
//! one key-value state, as SpinKube replicas do in production.
//!
//! [`RedisServer::start`] runs Debian's `redis-server` (installed with
//! `apt-get install -y redis-server` when missing, see [`redis_server_bin`])
//! on a free loopback port with its own data directory, in its own process
//! group, with an append-only file synced on every write (as a production
//! Redis that must not lose holds: a restart, even after SIGKILL, keeps
//! every acknowledged write); dropping it stops it. [`redis_runtime_config`] turns a runtime config's key-value stores
//! into Redis stores on it. Reads for invariant checks go through the
//! `redis` crate.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `redis-server`: the first on `PATH` (or `/usr/sbin`, `/usr/bin`); when
/// there is none, installs Debian's package with `apt-get install -y
/// redis-server` (as root, else through `sudo -n`) and looks again.
///
/// Errors: a sentence saying why there is none (no apt-get, not root, the
/// install failed), for the caller to print loudly.
pub fn redis_server_bin() -> Result<PathBuf, String> {
    let find = || {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
            .map(|d| d.join("redis-server"))
            .find(|p| p.is_file())
    };
    if let Some(p) = find() {
        return Ok(p);
    }
    let root = unsafe { libc::geteuid() } == 0;
    let mut cmd = if root { Command::new("apt-get") } else { Command::new("sudo") };
    if !root {
        cmd.args(["-n", "apt-get"]);
    }
    cmd.args(["install", "-y", "--no-install-recommends", "redis-server"]).env("DEBIAN_FRONTEND", "noninteractive");
    eprintln!("apphost: redis-server is missing; installing Debian's package (apt-get install -y redis-server)");
    let out = cmd.output().map_err(|e| format!("cannot run apt-get to install redis-server: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "apt-get install redis-server failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or_default()
        ));
    }
    find().ok_or_else(|| "apt-get installed redis-server but no redis-server binary is on PATH".into())
}

/// A running `redis-server` of one test; stopped on drop.
pub struct RedisServer {
    bin: PathBuf,
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts `redis-server` on a free loopback port, data directory `dir`
    /// (created; the append-only file lives there), and waits until it
    /// answers `PING`.
    ///
    /// Errors: why it could not (no binary and no way to install one, or
    /// it did not answer within 10 s).
    pub fn start(dir: &Path) -> Result<RedisServer, String> {
        let bin = redis_server_bin()?;
        std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        let mut server = RedisServer { bin, port: crate::free_port(), dir: dir.to_path_buf(), child: None };
        server.spawn()?;
        Ok(server)
    }

    fn spawn(&mut self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("redis.log"))
            .map_err(|e| format!("redis log: {e}"))?;
        let child = Command::new(&self.bin)
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("start {}: {e}", self.bin.display()))?;
        self.child = Some(child);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if self
                .connection()
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c).map_err(|e| e.to_string()))
                .is_ok()
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!(
            "redis-server on port {} did not answer PING within 10 s (log: {})",
            self.port,
            self.dir.join("redis.log").display()
        ))
    }

    /// `redis://127.0.0.1:<port>`, what a Spin runtime config's `url` takes.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The process id of `redis-server`.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// A new connection (for reads in invariant checks).
    pub fn connection(&self) -> Result<redis::Connection, String> {
        let client = redis::Client::open(self.url()).map_err(|e| e.to_string())?;
        client.get_connection_with_timeout(Duration::from_secs(2)).map_err(|e| e.to_string())
    }

    /// Every `(key, value)` whose key starts with `prefix` (`SCAN` +
    /// `GET`); values as stored (Spin's Redis `increment` stores decimal
    /// text).
    pub fn entries(&self, prefix: &str) -> Vec<(String, Vec<u8>)> {
        let mut c = self.connection().expect("connect to redis-server");
        let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query(&mut c).expect("KEYS");
        keys.into_iter()
            .filter_map(|k| {
                let v: Option<Vec<u8>> = redis::cmd("GET").arg(&k).query(&mut c).expect("GET");
                v.map(|v| (k, v))
            })
            .collect()
    }

    /// Stops `redis-server` with SIGKILL — for fault tests;
    /// [`RedisServer::restart`] brings it back on the same port with every
    /// acknowledged write (append-only file, fsync always).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: kill(2) on our own child's process group.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
        }
    }

    /// Stops it with SIGTERM and waits.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: as in `kill`.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (after [`RedisServer::kill`] or
    /// [`RedisServer::stop`]).
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.spawn()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `text` (a Spin runtime config) with every `[key_value_store.<label>]`
/// block made `type = "redis"`, `url = <url>` (its other keys dropped), and
/// a `[key_value_store.default]` block added when there is none, so every
/// label a manifest can name lives in that one Redis; SQLite blocks are
/// kept as they are. Line-based: the blocks are `[table]` headers followed
/// by `key = value` lines, as Spin's runtime configs are written.
pub fn redis_runtime_config(text: &str, url: &str) -> String {
    let mut out = String::new();
    let mut in_kv = false;
    let mut has_default = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_kv = trimmed.starts_with("[key_value_store.");
            has_default |= trimmed == "[key_value_store.default]";
            out.push_str(line);
            out.push('\n');
            if in_kv {
                out.push_str(&format!("type = \"redis\"\nurl = \"{url}\"\n"));
            }
            continue;
        }
        if in_kv && !trimmed.is_empty() && !trimmed.starts_with('#') {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if !has_default {
        out.push_str(&format!("\n[key_value_store.default]\ntype = \"redis\"\nurl = \"{url}\"\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_value_blocks_become_redis_and_sqlite_blocks_stay() {
        let text = "# c\n[sqlite_database.auth]\ntype = \"spin\"\npath = \"a.db\"\n\n[key_value_store.holds]\ntype = \"spin\"\npath = \"h.db\"\n";
        let out = super::redis_runtime_config(text, "redis://127.0.0.1:1");
        assert!(out.contains("[sqlite_database.auth]\ntype = \"spin\"\npath = \"a.db\""), "{out}");
        assert!(out.contains("[key_value_store.holds]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:1\"\n"), "{out}");
        assert!(!out.contains("h.db"), "{out}");
        assert!(out.contains("[key_value_store.default]\ntype = \"redis\""), "{out}");
    }
}
