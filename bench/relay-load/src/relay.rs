//! Runs the relay binary as a child process pointed at the fake upstream, and reads its
//! memory, CPU time and descriptors from /proc.

use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::procfs;
use crate::tls;
use crate::upstream::Endpoint;

/// How long the relay may take to log its address.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Warning and error lines of the relay's log shown; the rest are only counted.
const SHOWN_WARNINGS: u64 = 10;

/// A running relay.
pub struct Relay {
    child: Child,
    pid: u32,
    /// Warning and error lines the relay has logged.
    warnings: Arc<AtomicU64>,
    /// `http://ADDR`
    pub http: String,
    /// `ws://ADDR`
    pub ws: String,
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Relay {
    /// Starts `bin` on 127.0.0.1 (a free port) against the upstream at `upstream` (trusting
    /// the test CA when it speaks TLS), with its
    /// shared state in the Redis at `redis_url` when one is given (in memory otherwise).
    pub async fn start(
        bin: &Path,
        upstream: Endpoint,
        redis_url: Option<&str>,
    ) -> Result<Relay, String> {
        let mut command = Command::new(bin);
        match redis_url {
            Some(url) => command.env("RELAY_REDIS_URL", url),
            None => command.env_remove("RELAY_REDIS_URL"),
        };
        if upstream.tls {
            command.env("DEEPSEEK_CA_FILE", tls::CA_FILE);
        } else {
            command.env_remove("DEEPSEEK_CA_FILE");
        }
        let mut child = command
            .env("RELAY_ADDR", "127.0.0.1:0")
            .env("DEEPSEEK_API_KEY", "bench-key")
            .env("DEEPSEEK_BASE_URL", format!("{}/v1", upstream.origin()))
            .env("DEEPSEEK_MODEL", "bench")
            .env("RELAY_MAX_UPSTREAM", "100000")
            // Every socket of the benchmark comes from 127.0.0.1 (10,000 in the idle phase).
            .env("RELAY_MAX_CONNECTIONS_PER_IP", "0")
            .env_remove("RELAY_TOKENS")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            // The relay logs to stdout (tracing's default); stderr carries start-up errors.
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let pid = child.id().ok_or("relay exited at once")?;
        let stdout = child.stdout.take().ok_or("no relay stdout")?;
        let stderr = child.stderr.take().ok_or("no relay stderr")?;
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("relay: {line}");
            }
        });
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(START_TIMEOUT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                let line = strip_ansi(&line);
                if let Some((_, rest)) = line.split_once("listening on http://") {
                    return Some(rest.split_whitespace().next().unwrap_or("").to_owned());
                }
            }
            None
        })
        .await
        .map_err(|_| "the relay did not log its address in time".to_owned())?
        .ok_or("the relay exited before listening")?;
        // Keep draining the log so the relay never blocks on a full pipe; count problems and
        // show the first few.
        let warnings = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&warnings);
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let line = strip_ansi(&line);
                if line.contains("ERROR") || line.contains("WARN") {
                    let seen = counted.fetch_add(1, Ordering::Relaxed) + 1;
                    if seen <= SHOWN_WARNINGS {
                        eprintln!("relay: {line}");
                    } else if seen == SHOWN_WARNINGS + 1 {
                        eprintln!("relay: (further warnings are counted, not shown)");
                    }
                }
            }
        });
        Ok(Relay {
            child,
            pid,
            warnings,
            http: format!("http://{addr}"),
            ws: format!("ws://{addr}"),
        })
    }

    /// Warning and error lines the relay has logged so far.
    pub fn warnings(&self) -> u64 {
        self.warnings.load(Ordering::Relaxed)
    }

    /// Resident set size in bytes (VmRSS).
    pub fn rss_bytes(&self) -> Option<u64> {
        procfs::rss_bytes(self.pid)
    }

    /// User + system CPU time in seconds.
    pub fn cpu_seconds(&self) -> Option<f64> {
        procfs::cpu_seconds(&self.pid.to_string())
    }

    /// Descriptors the relay has open.
    pub fn open_fds(&self) -> Option<usize> {
        procfs::open_fds(self.pid)
    }

    /// How the relay ended, if it has.
    pub fn exit_status(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            _ => None,
        }
    }

    /// Stops the relay (SIGKILL: nothing of its state is needed afterwards).
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// Reads a number from the relay's `/healthz` JSON.
pub async fn health_field(http: &reqwest::Client, base: &str, field: &str) -> Option<u64> {
    let body = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .ok()?
        .bytes()
        .await
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&body).ok()?;
    value.get(field)?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_codes_are_removed() {
        assert_eq!(
            strip_ansi("\u{1b}[32m INFO\u{1b}[0m listening on http://127.0.0.1:5"),
            " INFO listening on http://127.0.0.1:5"
        );
    }
}
