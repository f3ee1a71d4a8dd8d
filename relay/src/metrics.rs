//! Process-wide counters rendered as Prometheus text at `GET /metrics`.
//!
//! Plain atomics rather than a metrics crate: a handful of series, no labels beyond the error
//! code, and nothing allocated per connection.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use crate::error::ErrorCode;

/// Upper bounds (seconds) of the time-to-first-token histogram buckets.
const TTFT_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// The relay's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    connections_open: AtomicU64,
    connections_total: AtomicU64,
    streams_active: AtomicU64,
    generations_total: AtomicU64,
    tokens_relayed: AtomicU64,
    reasoning_tokens_relayed: AtomicU64,
    upstream_retries: AtomicU64,
    resumes_recovered: AtomicU64,
    resumes_lost: AtomicU64,
    grace_expired: AtomicU64,
    limit_hits: [AtomicU64; LimitHit::ALL.len()],
    errors: [AtomicU64; ErrorCode::ALL.len()],
    ttft_buckets: [AtomicU64; TTFT_BUCKETS.len()],
    ttft_count: AtomicU64,
    ttft_sum_micros: AtomicU64,
}

/// A connection limit that closed (or refused) a connection; see `limits.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitHit {
    /// A connection refused: its address was at `RELAY_MAX_CONNECTIONS_PER_IP`.
    ConnectionsPerIp,
    /// A request head (a WebSocket handshake) not complete within `RELAY_HANDSHAKE_TIMEOUT_MS`.
    HandshakeTimeout,
    /// A socket closed after `RELAY_IDLE_TIMEOUT_MS` without a frame.
    Idle,
}

impl LimitHit {
    /// Every limit, in the order rendered.
    pub const ALL: [LimitHit; 3] = [
        LimitHit::ConnectionsPerIp,
        LimitHit::HandshakeTimeout,
        LimitHit::Idle,
    ];

    /// The `limit` label.
    pub fn as_str(self) -> &'static str {
        match self {
            LimitHit::ConnectionsPerIp => "connections_per_ip",
            LimitHit::HandshakeTimeout => "handshake_timeout",
            LimitHit::Idle => "idle",
        }
    }
}

/// Decrements a gauge when dropped, so early returns and cancellation cannot leak it.
pub struct GaugeGuard {
    metrics: Arc<Metrics>,
    connection: bool,
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        let gauge = if self.connection {
            &self.metrics.connections_open
        } else {
            &self.metrics.streams_active
        };
        gauge.fetch_sub(1, Relaxed);
    }
}

impl Metrics {
    /// Counts an open socket until the guard drops.
    pub fn connection(self: &Arc<Self>) -> GaugeGuard {
        self.connections_total.fetch_add(1, Relaxed);
        self.connections_open.fetch_add(1, Relaxed);
        GaugeGuard {
            metrics: Arc::clone(self),
            connection: true,
        }
    }

    /// Counts an active generation until the guard drops.
    pub fn stream(self: &Arc<Self>) -> GaugeGuard {
        self.generations_total.fetch_add(1, Relaxed);
        self.streams_active.fetch_add(1, Relaxed);
        GaugeGuard {
            metrics: Arc::clone(self),
            connection: false,
        }
    }

    /// Open sockets right now.
    pub fn connections_open(&self) -> u64 {
        self.connections_open.load(Relaxed)
    }

    /// Generations in flight right now.
    pub fn streams_active(&self) -> u64 {
        self.streams_active.load(Relaxed)
    }

    /// One answer token sent to a client.
    pub fn token(&self) {
        self.tokens_relayed.fetch_add(1, Relaxed);
    }

    /// One reasoning token sent to a client.
    pub fn reasoning_token(&self) {
        self.reasoning_tokens_relayed.fetch_add(1, Relaxed);
    }

    /// One upstream retry.
    pub fn retry(&self) {
        self.upstream_retries.fetch_add(1, Relaxed);
    }

    /// One `resume` answered (also a repeated `chat_message` answered as one).
    pub fn resume(&self, recovered: bool) {
        let counter = if recovered {
            &self.resumes_recovered
        } else {
            &self.resumes_lost
        };
        counter.fetch_add(1, Relaxed);
    }

    /// One generation dropped because nobody resumed it within the resume grace.
    pub fn grace_expired(&self) {
        self.grace_expired.fetch_add(1, Relaxed);
    }

    /// One connection refused or closed by `limit`.
    pub fn limit_hit(&self, limit: LimitHit) {
        self.limit_hits[limit as usize].fetch_add(1, Relaxed);
    }

    /// One error frame sent with `code`.
    pub fn error(&self, code: ErrorCode) {
        self.errors[code.index()].fetch_add(1, Relaxed);
    }

    /// The time from a chat message to its first token.
    pub fn first_token(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        for (bucket, bound) in self.ttft_buckets.iter().zip(TTFT_BUCKETS) {
            if secs <= bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.ttft_count.fetch_add(1, Relaxed);
        self.ttft_sum_micros
            .fetch_add(elapsed.as_micros().min(u64::MAX as u128) as u64, Relaxed);
    }

    /// The Prometheus text exposition of every series.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let mut series = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        series(
            "chatwire_connections_open",
            "gauge",
            "Open WebSocket connections.",
            self.connections_open.load(Relaxed),
        );
        series(
            "chatwire_connections_total",
            "counter",
            "WebSocket connections accepted.",
            self.connections_total.load(Relaxed),
        );
        series(
            "chatwire_streams_active",
            "gauge",
            "Generations in flight.",
            self.streams_active.load(Relaxed),
        );
        series(
            "chatwire_generations_total",
            "counter",
            "Generations started.",
            self.generations_total.load(Relaxed),
        );
        series(
            "chatwire_tokens_relayed_total",
            "counter",
            "Answer tokens sent to clients.",
            self.tokens_relayed.load(Relaxed),
        );
        series(
            "chatwire_reasoning_tokens_relayed_total",
            "counter",
            "Reasoning tokens sent to clients.",
            self.reasoning_tokens_relayed.load(Relaxed),
        );
        series(
            "chatwire_upstream_retries_total",
            "counter",
            "Upstream requests retried before the first token.",
            self.upstream_retries.load(Relaxed),
        );
        series(
            "chatwire_grace_expired_total",
            "counter",
            "Generations dropped because nobody resumed them within RELAY_RESUME_GRACE_MS.",
            self.grace_expired.load(Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP chatwire_resumes_total Resumes answered, by whether the stream was recovered.\n# TYPE chatwire_resumes_total counter\nchatwire_resumes_total{{recovered=\"true\"}} {}\nchatwire_resumes_total{{recovered=\"false\"}} {}",
            self.resumes_recovered.load(Relaxed),
            self.resumes_lost.load(Relaxed)
        );
        let _ = writeln!(out, "# HELP chatwire_limit_closes_total Connections refused or closed by a limit (frame-rate closes count in chatwire_errors_total{{code=\"too_many_frames\"}}).\n# TYPE chatwire_limit_closes_total counter");
        for limit in LimitHit::ALL {
            let _ = writeln!(
                out,
                "chatwire_limit_closes_total{{limit=\"{}\"}} {}",
                limit.as_str(),
                self.limit_hits[limit as usize].load(Relaxed)
            );
        }
        let _ = writeln!(out, "# HELP chatwire_errors_total Error frames sent, by code.\n# TYPE chatwire_errors_total counter");
        for code in ErrorCode::ALL {
            let _ = writeln!(
                out,
                "chatwire_errors_total{{code=\"{code}\"}} {}",
                self.errors[code.index()].load(Relaxed)
            );
        }
        let _ = writeln!(out, "# HELP chatwire_time_to_first_token_seconds Time from chat message to first token.\n# TYPE chatwire_time_to_first_token_seconds histogram");
        for (bucket, bound) in self.ttft_buckets.iter().zip(TTFT_BUCKETS) {
            let _ = writeln!(
                out,
                "chatwire_time_to_first_token_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Relaxed)
            );
        }
        let count = self.ttft_count.load(Relaxed);
        let _ = writeln!(
            out,
            "chatwire_time_to_first_token_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "chatwire_time_to_first_token_seconds_sum {}",
            self.ttft_sum_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "chatwire_time_to_first_token_seconds_count {count}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_counts_errors_and_histogram_buckets() {
        let m = Arc::new(Metrics::default());
        m.error(ErrorCode::Busy);
        m.resume(true);
        m.resume(false);
        m.resume(false);
        m.grace_expired();
        m.limit_hit(LimitHit::Idle);
        m.first_token(Duration::from_millis(200));
        {
            let _c = m.connection();
            assert_eq!(m.connections_open(), 1);
        }
        let text = m.render();
        assert!(
            text.contains("chatwire_errors_total{code=\"busy\"} 1"),
            "{text}"
        );
        assert!(text.contains("chatwire_resumes_total{recovered=\"true\"} 1"));
        assert!(text.contains("chatwire_resumes_total{recovered=\"false\"} 2"));
        assert!(text.contains("chatwire_grace_expired_total 1"));
        assert!(text.contains("chatwire_limit_closes_total{limit=\"idle\"} 1\n"));
        assert!(text.contains("chatwire_limit_closes_total{limit=\"connections_per_ip\"} 0\n"));
        assert!(text.contains("chatwire_time_to_first_token_seconds_bucket{le=\"0.1\"} 0"));
        assert!(text.contains("chatwire_time_to_first_token_seconds_bucket{le=\"0.25\"} 1"));
        assert!(text.contains("chatwire_time_to_first_token_seconds_count 1"));
        assert!(text.contains("chatwire_connections_open 0"));
        assert!(text.contains("chatwire_connections_total 1"));
    }
}
