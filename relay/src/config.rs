//! Relay configuration: clap flags backed by environment variables (and a `.env` file).
//!
//! [`Cli`] is what the command line and environment say; [`Config`] is the validated form the
//! relay runs with. Every bad value fails at start-up with an error naming the variable.
//! Tests build a [`Config`] directly (starting from [`Config::default`]) to use short timeouts.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::RootCertStore;

use crate::auth::{OriginPolicy, TokenSet};
use crate::history::HistoryLimits;
use crate::limits::{FrameRate, Limits};
use crate::redis_conn::Redis;
use crate::registry::{BufferBounds, ResumeConfig};

/// Default upstream, DeepSeek's OpenAI-compatible API.
pub const DEFAULT_BASE_URL: &str = "https://api.deepseek.com/v1";

/// Command line and environment of `chatwire-relay`.
#[derive(Debug, Parser)]
#[command(
    name = "chatwire-relay",
    version,
    about = "The chatwire relay: WebSocket chat in, OpenAI-compatible streaming out"
)]
pub struct Cli {
    /// Address to listen on (port 0 picks a free port). A non-loopback address needs RELAY_TOKENS.
    #[arg(
        long,
        env = "RELAY_ADDR",
        value_name = "RELAY_ADDR",
        default_value = "127.0.0.1:8000"
    )]
    pub addr: SocketAddr,
    /// Comma-separated client tokens. Unset: dev mode (any non-empty token, loopback only).
    #[arg(
        long,
        env = "RELAY_TOKENS",
        value_name = "RELAY_TOKENS",
        hide_env_values = true
    )]
    pub tokens: Option<String>,
    /// Comma-separated allowed browser Origins (`*` for any). Unset: loopback pages (and own host with tokens).
    #[arg(
        long,
        env = "RELAY_ALLOWED_ORIGINS",
        value_name = "RELAY_ALLOWED_ORIGINS"
    )]
    pub allowed_origins: Option<String>,
    /// Most concurrent upstream requests across all connections.
    #[arg(long, env = "RELAY_MAX_UPSTREAM", value_name = "RELAY_MAX_UPSTREAM", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_upstream: u32,
    /// Longest gap between upstream chunks before the reply counts as stalled, in ms.
    #[arg(long, env = "RELAY_UPSTREAM_IDLE_TIMEOUT_MS", value_name = "RELAY_UPSTREAM_IDLE_TIMEOUT_MS",
          default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub upstream_idle_timeout_ms: u64,
    /// Longest wait for the first token of a reply, in ms (DeepSeek itself gives up at 10 min).
    #[arg(long, env = "RELAY_FIRST_TOKEN_TIMEOUT_MS", value_name = "RELAY_FIRST_TOKEN_TIMEOUT_MS",
          default_value_t = 120_000, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub first_token_timeout_ms: u64,
    /// Longest TCP/TLS connect to the upstream, in ms.
    #[arg(long, env = "RELAY_CONNECT_TIMEOUT_MS", value_name = "RELAY_CONNECT_TIMEOUT_MS",
          default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub connect_timeout_ms: u64,
    /// How long in-flight replies may finish after SIGINT/SIGTERM before sockets close, in ms.
    #[arg(long, env = "RELAY_SHUTDOWN_GRACE_MS", value_name = "RELAY_SHUTDOWN_GRACE_MS",
          default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub shutdown_grace_ms: u64,
    /// How long a reply whose socket dropped keeps running (and a finished one stays
    /// resumable) waiting for a `resume`, in ms; after it the upstream request is dropped.
    #[arg(long, env = "RELAY_RESUME_GRACE_MS", value_name = "RELAY_RESUME_GRACE_MS",
          default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub resume_grace_ms: u64,
    /// Most frames kept per reply for resumes (older ones are dropped first).
    #[arg(long, env = "RELAY_RESUME_BUFFER_FRAMES", value_name = "RELAY_RESUME_BUFFER_FRAMES",
          default_value_t = 4_096, value_parser = clap::value_parser!(u64).range(2..=1_000_000))]
    pub resume_buffer_frames: u64,
    /// Most bytes of frames kept per reply for resumes (older ones are dropped first).
    #[arg(long, env = "RELAY_RESUME_BUFFER_BYTES", value_name = "RELAY_RESUME_BUFFER_BYTES",
          default_value_t = 1_048_576, value_parser = clap::value_parser!(u64).range(1_024..=1_073_741_824))]
    pub resume_buffer_bytes: u64,
    /// Frames per second one socket may send, sustained; faster gets `too_many_frames` and a
    /// close with 1008. 0: no limit.
    #[arg(long, env = "RELAY_FRAME_RATE", value_name = "RELAY_FRAME_RATE", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub frame_rate: u32,
    /// Frames one socket may send at once, above the sustained rate (a reconnect's backlog).
    #[arg(long, env = "RELAY_FRAME_BURST", value_name = "RELAY_FRAME_BURST", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub frame_burst: u32,
    /// Open connections per client address (IPv6: per /64), WebSockets and plain HTTP alike;
    /// more are closed on accept. Behind a proxy all come from its address. 0: no cap.
    #[arg(long, env = "RELAY_MAX_CONNECTIONS_PER_IP", value_name = "RELAY_MAX_CONNECTIONS_PER_IP",
          default_value_t = 256, value_parser = clap::value_parser!(u32).range(0..=10_000_000))]
    pub max_connections_per_ip: u32,
    /// Longest a connection may take to send a complete request head (the WebSocket
    /// handshake), from being accepted or done with its previous request, in ms.
    #[arg(long, env = "RELAY_HANDSHAKE_TIMEOUT_MS", value_name = "RELAY_HANDSHAKE_TIMEOUT_MS",
          default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub handshake_timeout_ms: u64,
    /// Longest a socket may send nothing while no reply streams to it, in ms; then it is
    /// closed with 1001. Keep it well above the client's ping period (30 s). 0: never.
    #[arg(long, env = "RELAY_IDLE_TIMEOUT_MS", value_name = "RELAY_IDLE_TIMEOUT_MS",
          default_value_t = 120_000, value_parser = clap::value_parser!(u64).range(0..=86_400_000))]
    pub idle_timeout_ms: u64,
    /// Longest a write may wait for a client that reads nothing before its connection is
    /// dropped, in ms (a slow client that still reads is not dropped). At most 30 s, the
    /// bound the socket's writer puts on any one batch of frames.
    #[arg(long, env = "RELAY_WRITE_TIMEOUT_MS", value_name = "RELAY_WRITE_TIMEOUT_MS",
          default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..=30_000))]
    pub write_timeout_ms: u64,
    /// Redis URL (`redis://host:port/db`) shared by several relay instances for history, the
    /// conversation lease and accepted client ids. Unset: all of it stays in this process.
    #[arg(
        long,
        env = "RELAY_REDIS_URL",
        value_name = "RELAY_REDIS_URL",
        hide_env_values = true
    )]
    pub redis_url: Option<String>,
    /// How long Redis keeps a conversation's history after its last message, in seconds.
    #[arg(long, env = "RELAY_HISTORY_TTL_SECS", value_name = "RELAY_HISTORY_TTL_SECS",
          default_value_t = 2_592_000, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub history_ttl_secs: u64,
    /// How long a conversation's lease in Redis outlives an instance that stopped renewing
    /// it (crashed), in ms; renewed every third of it while a reply runs.
    #[arg(long, env = "RELAY_REDIS_LEASE_MS", value_name = "RELAY_REDIS_LEASE_MS",
          default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(300..=600_000))]
    pub redis_lease_ms: u64,
    /// API key for the upstream. Unset: the offline provider answers (no network needed).
    #[arg(
        long,
        env = "DEEPSEEK_API_KEY",
        value_name = "DEEPSEEK_API_KEY",
        hide_env_values = true
    )]
    pub deepseek_api_key: Option<String>,
    /// Base URL of the OpenAI-compatible API.
    #[arg(long, env = "DEEPSEEK_BASE_URL", value_name = "DEEPSEEK_BASE_URL", default_value = DEFAULT_BASE_URL)]
    pub deepseek_base_url: String,
    /// Model id. Unset: the first id of `GET {base}/models`, else `deepseek-chat`.
    #[arg(long, env = "DEEPSEEK_MODEL", value_name = "DEEPSEEK_MODEL")]
    pub deepseek_model: Option<String>,
    /// PEM file of CA certificates an `https://` upstream may also chain to (a model server
    /// behind a private CA), besides the built-in webpki roots.
    #[arg(long, env = "DEEPSEEK_CA_FILE", value_name = "DEEPSEEK_CA_FILE")]
    pub deepseek_ca_file: Option<PathBuf>,
    /// Directory of the built demo, served at `/`.
    #[arg(
        long,
        env = "RELAY_STATIC_DIR",
        value_name = "RELAY_STATIC_DIR",
        default_value = "www/dist"
    )]
    pub static_dir: PathBuf,
    /// Directory of the wasm-pack output, served at `/pkg/`.
    #[arg(
        long,
        env = "RELAY_PKG_DIR",
        value_name = "RELAY_PKG_DIR",
        default_value = "pkg"
    )]
    pub pkg_dir: PathBuf,
}

/// A start-up configuration error. The message always names the variable at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A variable's value could not be used.
    #[error("{var}: {reason}")]
    Invalid {
        /// The environment variable (and flag) at fault.
        var: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// No tokens configured, but the address is reachable from other machines.
    #[error("RELAY_TOKENS: refusing to listen on public address {0} without tokens; set RELAY_TOKENS or bind a loopback address such as 127.0.0.1")]
    PublicWithoutTokens(SocketAddr),
}

/// Where replies come from and how patiently the relay waits for them.
#[derive(Clone)]
pub struct UpstreamConfig {
    /// API key; `None` selects the offline provider.
    pub api_key: Option<String>,
    /// Base URL, without trailing slash (`…/v1`).
    pub base_url: String,
    /// Model id; `None` means discover at start-up.
    pub model: Option<String>,
    /// CA certificates trusted for the upstream besides the built-in roots
    /// (`DEEPSEEK_CA_FILE`).
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Longest wait from request to the first token.
    pub first_token_timeout: Duration,
    /// Longest gap between chunks.
    pub idle_timeout: Duration,
    /// Attempts per generation for 429/5xx/reset before the first token (1 = no retry).
    pub max_attempts: u32,
    /// First backoff step; doubles per attempt, with full jitter.
    pub backoff_base: Duration,
    /// Largest backoff step.
    pub backoff_max: Duration,
    /// Delay between tokens of the offline provider.
    pub offline_token_delay: Duration,
}

impl std::fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConfig")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("extra_roots", &self.extra_roots.len())
            .field("connect_timeout", &self.connect_timeout)
            .field("first_token_timeout", &self.first_token_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

/// The validated configuration the relay runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address.
    pub addr: SocketAddr,
    /// Accepted client tokens (empty: dev mode).
    pub tokens: TokenSet,
    /// Which browser Origins may open a socket.
    pub origins: OriginPolicy,
    /// Global cap on concurrent generations.
    pub max_upstream: usize,
    /// Upstream settings.
    pub upstream: UpstreamConfig,
    /// Per-conversation history bounds.
    pub history: HistoryLimits,
    /// Longest accepted chat message, in characters.
    pub max_message_chars: usize,
    /// Most generations one socket may run at once (across its conversations).
    pub max_generations_per_socket: usize,
    /// WebSocket message and frame limit in bytes (larger closes with 1009).
    pub max_frame_bytes: usize,
    /// WebSocket read buffer per socket, in bytes.
    pub ws_read_buffer: usize,
    /// Grace period for in-flight replies at shutdown.
    pub shutdown_grace: Duration,
    /// What one socket (or one address) may take: frame rate, connections, time.
    pub limits: Limits,
    /// How long unwatched replies wait for a resume, and how much of each is kept.
    pub resume: ResumeConfig,
    /// The shared store (`RELAY_REDIS_URL`); `None`: everything in this process.
    pub redis: Option<Redis>,
    /// How long a conversation's lease in Redis lasts unless renewed.
    pub redis_lease: Duration,
    /// Built demo directory.
    pub static_dir: PathBuf,
    /// wasm-pack output directory.
    pub pkg_dir: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8000)),
            tokens: TokenSet::default(),
            origins: OriginPolicy::default(),
            max_upstream: 64,
            upstream: UpstreamConfig {
                api_key: None,
                base_url: DEFAULT_BASE_URL.to_owned(),
                model: None,
                extra_roots: Vec::new(),
                connect_timeout: Duration::from_secs(10),
                first_token_timeout: Duration::from_secs(120),
                idle_timeout: Duration::from_secs(30),
                max_attempts: 3,
                backoff_base: Duration::from_millis(250),
                backoff_max: Duration::from_secs(4),
                offline_token_delay: Duration::from_millis(30),
            },
            history: HistoryLimits::default(),
            max_message_chars: 16_000,
            max_generations_per_socket: 4,
            max_frame_bytes: 64 * 1024,
            // Allocated for every socket up front. 1 KiB instead of 2: 1,320 B less RSS per idle
            // socket (relay-load idle); a 60 KB client frame takes more reads (0.79-0.90 s of CPU
            // per 10,000 against 0.74-0.78 s), a 1 KB one none (0.12-0.13 s either way).
            ws_read_buffer: 1024,
            shutdown_grace: Duration::from_secs(10),
            limits: Limits::default(),
            resume: ResumeConfig::default(),
            redis: None,
            redis_lease: Duration::from_secs(10),
            static_dir: PathBuf::from("www/dist"),
            pkg_dir: PathBuf::from("pkg"),
        }
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn invalid(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        reason: reason.into(),
    }
}

impl Cli {
    /// Validates the command line into a [`Config`].
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let tokens = TokenSet::parse(self.tokens.as_deref().unwrap_or(""))
            .map_err(|reason| invalid("RELAY_TOKENS", reason))?;
        let origins = OriginPolicy::parse(self.allowed_origins.as_deref().unwrap_or(""))
            .map_err(|reason| invalid("RELAY_ALLOWED_ORIGINS", reason))?;
        let base_url = validate_base_url(&self.deepseek_base_url)?;
        let api_key = non_empty(self.deepseek_api_key);
        if let Some(key) = &api_key {
            if key.chars().any(|c| c.is_control() || c == ' ') {
                return Err(invalid(
                    "DEEPSEEK_API_KEY",
                    "contains spaces or control characters",
                ));
            }
        }
        let model = non_empty(self.deepseek_model);
        let extra_roots = match &self.deepseek_ca_file {
            Some(path) => read_ca_file(path)?,
            None => Vec::new(),
        };
        let redis = non_empty(self.redis_url)
            .map(|url| Redis::open(&url))
            .transpose()
            .map_err(|e| invalid("RELAY_REDIS_URL", format!("not a Redis URL ({e})")))?;
        let defaults = Config::default();
        let config = Config {
            addr: self.addr,
            tokens,
            origins,
            max_upstream: self.max_upstream as usize,
            upstream: UpstreamConfig {
                api_key,
                base_url,
                model,
                extra_roots,
                connect_timeout: Duration::from_millis(self.connect_timeout_ms),
                first_token_timeout: Duration::from_millis(self.first_token_timeout_ms),
                idle_timeout: Duration::from_millis(self.upstream_idle_timeout_ms),
                ..defaults.upstream
            },
            shutdown_grace: Duration::from_millis(self.shutdown_grace_ms),
            limits: Limits {
                frame_rate: (self.frame_rate > 0).then_some(FrameRate {
                    per_second: self.frame_rate,
                    burst: self.frame_burst,
                }),
                max_connections_per_ip: (self.max_connections_per_ip > 0)
                    .then_some(self.max_connections_per_ip as usize),
                handshake_timeout: Duration::from_millis(self.handshake_timeout_ms),
                idle_timeout: (self.idle_timeout_ms > 0)
                    .then(|| Duration::from_millis(self.idle_timeout_ms)),
                write_timeout: Duration::from_millis(self.write_timeout_ms),
            },
            resume: ResumeConfig {
                grace: Duration::from_millis(self.resume_grace_ms),
                bounds: BufferBounds {
                    max_frames: usize::try_from(self.resume_buffer_frames).unwrap_or(usize::MAX),
                    max_bytes: usize::try_from(self.resume_buffer_bytes).unwrap_or(usize::MAX),
                },
            },
            history: HistoryLimits {
                idle_ttl: Duration::from_secs(self.history_ttl_secs),
                ..defaults.history
            },
            redis,
            redis_lease: Duration::from_millis(self.redis_lease_ms),
            static_dir: self.static_dir,
            pkg_dir: self.pkg_dir,
            ..defaults
        };
        config.validate()?;
        Ok(config)
    }
}

fn validate_base_url(raw: &str) -> Result<String, ConfigError> {
    let trimmed = raw.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(trimmed)
        .map_err(|e| invalid("DEEPSEEK_BASE_URL", format!("not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(
            "DEEPSEEK_BASE_URL",
            "must start with http:// or https://",
        ));
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "DEEPSEEK_BASE_URL",
            "must not carry a query or credentials (the key goes in DEEPSEEK_API_KEY)",
        ));
    }
    Ok(trimmed.to_owned())
}

/// The certificates of a PEM file named by `DEEPSEEK_CA_FILE`.
fn read_ca_file(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let pem = std::fs::read(path)
        .map_err(|e| invalid("DEEPSEEK_CA_FILE", format!("{}: {e}", path.display())))?;
    parse_ca_bundle(&pem)
        .map_err(|reason| invalid("DEEPSEEK_CA_FILE", format!("{}: {reason}", path.display())))
}

/// The CA certificates in a PEM bundle: at least one, each one a certificate rustls can use
/// as a root.
fn parse_ca_bundle(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM file ({e})"))?;
    if certs.is_empty() {
        return Err("no PEM certificate in it".to_owned());
    }
    let (_, unusable) = RootCertStore::empty().add_parsable_certificates(certs.iter().cloned());
    if unusable > 0 {
        return Err(format!("{unusable} of its certificates cannot be parsed"));
    }
    Ok(certs)
}

impl Config {
    /// Checks rules that span several values (dev mode only on loopback).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.tokens.is_empty() && !self.addr.ip().is_loopback() {
            return Err(ConfigError::PublicWithoutTokens(self.addr));
        }
        Ok(())
    }

    /// Whether clients are checked against configured tokens (false: dev mode).
    pub fn dev_mode(&self) -> bool {
        self.tokens.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, String> {
        let mut argv = vec!["chatwire-relay"];
        argv.extend_from_slice(args);
        let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
        cli.into_config().map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_offline_dev_mode_on_loopback() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:8000");
        assert!(c.dev_mode());
        assert!(c.upstream.api_key.is_none());
        assert_eq!(c.upstream.base_url, DEFAULT_BASE_URL);
        assert_eq!(c.resume.grace, Duration::from_secs(30));
        assert_eq!(c.resume.bounds, BufferBounds::default());
        let c = parse(&["--resume-grace-ms", "500"]).unwrap();
        assert_eq!(c.resume.grace, Duration::from_millis(500));
        assert!(c.redis.is_none());
        assert_eq!(c.history.idle_ttl, Duration::from_secs(30 * 24 * 3600));
    }

    #[test]
    fn redis_url_is_checked_and_never_shown() {
        let c = parse(&["--redis-url", "redis://:hunter2@127.0.0.1:6379/0"]).unwrap();
        assert!(c.redis.is_some());
        assert!(!format!("{c:?}").contains("hunter2"));
        let c = parse(&["--redis-url", " "]).unwrap();
        assert!(c.redis.is_none());
        let e = parse(&["--redis-url", "http://x"]).unwrap_err();
        assert!(e.contains("RELAY_REDIS_URL"), "{e}");
        let e = parse(&["--history-ttl-secs", "0"]).unwrap_err();
        assert!(e.contains("RELAY_HISTORY_TTL_SECS"), "{e}");
        let c = parse(&["--redis-lease-ms", "900", "--history-ttl-secs", "60"]).unwrap();
        assert_eq!(c.redis_lease, Duration::from_millis(900));
        assert_eq!(c.history.idle_ttl, Duration::from_secs(60));
    }

    #[test]
    fn bad_values_name_their_variable() {
        let e = parse(&["--addr", "localhost:http"]).unwrap_err();
        assert!(e.contains("RELAY_ADDR"), "{e}");
        let e = parse(&["--max-upstream", "0"]).unwrap_err();
        assert!(e.contains("RELAY_MAX_UPSTREAM"), "{e}");
        let e = parse(&["--upstream-idle-timeout-ms", "soon"]).unwrap_err();
        assert!(e.contains("RELAY_UPSTREAM_IDLE_TIMEOUT_MS"), "{e}");
        let e = parse(&["--deepseek-base-url", "ftp://x"]).unwrap_err();
        assert!(e.contains("DEEPSEEK_BASE_URL"), "{e}");
        let e = parse(&["--resume-grace-ms", "3600001"]).unwrap_err();
        assert!(e.contains("RELAY_RESUME_GRACE_MS"), "{e}");
        let e = parse(&["--resume-buffer-frames", "1"]).unwrap_err();
        assert!(e.contains("RELAY_RESUME_BUFFER_FRAMES"), "{e}");
        let e = parse(&["--allowed-origins", "not an origin"]).unwrap_err();
        assert!(e.contains("RELAY_ALLOWED_ORIGINS"), "{e}");
    }

    #[test]
    fn limits_default_to_a_public_deployment_and_can_be_lifted() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.limits, Limits::default());
        assert_eq!(
            c.limits.frame_rate,
            Some(FrameRate {
                per_second: 50,
                burst: 200
            })
        );
        let c = parse(&["--frame-rate", "1000", "--frame-burst", "5000"]).unwrap();
        assert_eq!(
            c.limits.frame_rate,
            Some(FrameRate {
                per_second: 1000,
                burst: 5000
            })
        );
        assert_eq!(c.limits.max_connections_per_ip, Some(256));
        assert_eq!(c.limits.handshake_timeout, Duration::from_secs(10));
        assert_eq!(c.limits.idle_timeout, Some(Duration::from_secs(120)));
        assert_eq!(c.limits.write_timeout, Duration::from_secs(10));
        // 0 lifts a limit that has an "off".
        let c = parse(&[
            "--frame-rate",
            "0",
            "--max-connections-per-ip",
            "0",
            "--idle-timeout-ms",
            "0",
        ])
        .unwrap();
        assert_eq!(c.limits.frame_rate, None);
        assert_eq!(c.limits.max_connections_per_ip, None);
        assert_eq!(c.limits.idle_timeout, None);
        let c = parse(&[
            "--max-connections-per-ip",
            "20000",
            "--handshake-timeout-ms",
            "2500",
            "--idle-timeout-ms",
            "90000",
            "--write-timeout-ms",
            "500",
        ])
        .unwrap();
        assert_eq!(c.limits.max_connections_per_ip, Some(20_000));
        assert_eq!(c.limits.handshake_timeout, Duration::from_millis(2_500));
        assert_eq!(c.limits.idle_timeout, Some(Duration::from_secs(90)));
        assert_eq!(c.limits.write_timeout, Duration::from_millis(500));
        for (flag, var) in [
            ("--handshake-timeout-ms", "RELAY_HANDSHAKE_TIMEOUT_MS"),
            ("--write-timeout-ms", "RELAY_WRITE_TIMEOUT_MS"),
        ] {
            let e = parse(&[flag, "0"]).unwrap_err();
            assert!(e.contains(var), "{e}");
        }
        let e = parse(&["--max-connections-per-ip", "many"]).unwrap_err();
        assert!(e.contains("RELAY_MAX_CONNECTIONS_PER_IP"), "{e}");
        let e = parse(&["--write-timeout-ms", "30001"]).unwrap_err();
        assert!(e.contains("RELAY_WRITE_TIMEOUT_MS"), "{e}");
        let e = parse(&["--idle-timeout-ms", "86400001"]).unwrap_err();
        assert!(e.contains("RELAY_IDLE_TIMEOUT_MS"), "{e}");
        let e = parse(&["--frame-burst", "0"]).unwrap_err();
        assert!(e.contains("RELAY_FRAME_BURST"), "{e}");
        let e = parse(&["--frame-rate", "fast"]).unwrap_err();
        assert!(e.contains("RELAY_FRAME_RATE"), "{e}");
    }

    #[test]
    fn public_address_requires_tokens() {
        let e = parse(&["--addr", "0.0.0.0:8000"]).unwrap_err();
        assert!(e.contains("RELAY_TOKENS"), "{e}");
        let c = parse(&["--addr", "0.0.0.0:8000", "--tokens", "a,b"]).unwrap();
        assert!(!c.dev_mode());
        assert!(parse(&["--addr", "[::1]:0"]).is_ok());
    }

    #[test]
    fn debug_output_hides_the_api_key() {
        let c = parse(&["--deepseek-api-key", "sk-secret-123", "--tokens", "tok-456"]).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("sk-secret-123"), "{shown}");
        assert!(!shown.contains("tok-456"), "{shown}");
    }

    #[test]
    fn a_ca_file_adds_its_certificates_to_the_upstreams_roots() {
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/ca.pem");
        let c = parse(&["--deepseek-ca-file", fixture]).unwrap();
        assert_eq!(c.upstream.extra_roots.len(), 1);
        assert!(parse(&[]).unwrap().upstream.extra_roots.is_empty());
        let e = parse(&["--deepseek-ca-file", "/nonexistent/ca.pem"]).unwrap_err();
        assert!(
            e.contains("DEEPSEEK_CA_FILE") && e.contains("/nonexistent/ca.pem"),
            "{e}"
        );
    }

    #[test]
    fn a_ca_bundle_needs_usable_certificates() {
        let ca = include_bytes!("../tests/fixtures/tls/ca.pem");
        assert_eq!(parse_ca_bundle(ca).unwrap().len(), 1);
        let two = [&ca[..], &ca[..]].concat();
        assert_eq!(parse_ca_bundle(&two).unwrap().len(), 2);
        assert!(parse_ca_bundle(b"")
            .unwrap_err()
            .contains("no PEM certificate"));
        assert!(parse_ca_bundle(b"not pem at all")
            .unwrap_err()
            .contains("no PEM certificate"));
        let garbage = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(parse_ca_bundle(garbage)
            .unwrap_err()
            .contains("cannot be parsed"));
    }

    #[test]
    fn empty_values_mean_unset() {
        let c = parse(&["--deepseek-api-key", "", "--deepseek-model", " "]).unwrap();
        assert!(c.upstream.api_key.is_none());
        assert!(c.upstream.model.is_none());
        let c = parse(&["--deepseek-base-url", "http://127.0.0.1:9/v1/"]).unwrap();
        assert_eq!(c.upstream.base_url, "http://127.0.0.1:9/v1");
    }
}
