//! A throwaway `redis-server` for the Redis rows of the benchmark: Debian's binary on a free
//! port, persistence off, killed with the benchmark. Its `total_commands_processed` counter
//! tells how many Redis commands the relay sent per token.

use std::process::Stdio;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use tokio::process::{Child, Command};

/// How long `redis-server` may take to answer its first PING.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running `redis-server` owned by the benchmark.
pub struct RedisServer {
    child: Child,
    /// `redis://127.0.0.1:PORT/0`
    pub url: String,
    /// One connection for every reading, so each costs Redis exactly one command (`INFO`),
    /// never a new connection's handshake commands as well.
    conn: MultiplexedConnection,
}

impl RedisServer {
    /// Starts `redis-server` from PATH on a free port; `Err` says why not (e.g. not installed).
    pub async fn start() -> Result<RedisServer, String> {
        let port = free_port()?;
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start redis-server ({e}); install it: apt-get install -y redis-server"
                )
            })?;
        let url = format!("redis://127.0.0.1:{port}/0");
        let client = redis::Client::open(url.as_str()).map_err(|e| e.to_string())?;
        let started = tokio::time::Instant::now();
        let conn = loop {
            match client.get_multiplexed_async_connection().await {
                Ok(conn) => break conn,
                Err(_) if started.elapsed() < START_TIMEOUT => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(format!("redis-server did not answer in time: {e}")),
            }
        };
        Ok(RedisServer { child, url, conn })
    }

    /// Commands Redis has processed since it started (`INFO stats`).
    pub async fn commands_processed(&self) -> Option<u64> {
        let mut conn = self.conn.clone();
        let info: String = redis::cmd("INFO")
            .arg("stats")
            .query_async(&mut conn)
            .await
            .ok()?;
        stat(&info, "total_commands_processed")
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// A port nobody listens on right now.
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// A numeric field of an `INFO` reply (`name:value` lines).
fn stat(info: &str, name: &str) -> Option<u64> {
    info.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|value| value.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_fields_are_read_by_name() {
        let info = "# Stats\r\ntotal_connections_received:3\r\ntotal_commands_processed:1234\r\n";
        assert_eq!(stat(info, "total_commands_processed"), Some(1234));
        assert_eq!(stat(info, "total_commands"), None);
        assert_eq!(stat(info, "missing"), None);
    }
}
