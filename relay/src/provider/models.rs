//! Model discovery: `GET {base}/models`, used when `DEEPSEEK_MODEL` is unset and to list the
//! available ids in the log when upstream says the configured model does not exist.

use std::time::Duration;

use serde::Deserialize;

/// Used when discovery fails.
pub const FALLBACK_MODEL: &str = "deepseek-chat";

#[derive(Deserialize)]
struct ModelList {
    data: Vec<ModelEntry>,
}

#[derive(Deserialize)]
struct ModelEntry {
    id: String,
}

/// Lists the model ids upstream offers, in its order.
pub async fn list(
    client: &reqwest::Client,
    base_url: &str,
    api_key: &str,
    timeout: Duration,
) -> Result<Vec<String>, String> {
    let response = client
        .get(format!("{base_url}/models"))
        .bearer_auth(api_key)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| e.without_url().to_string())?;
    parse(&body)
}

/// Reads the ids out of a `GET /models` body (empty ids dropped).
pub fn parse(body: &[u8]) -> Result<Vec<String>, String> {
    let list: ModelList =
        serde_json::from_slice(body).map_err(|e| format!("unexpected body: {e}"))?;
    Ok(list
        .data
        .into_iter()
        .map(|m| m.id)
        .filter(|id| !id.is_empty())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_in_order() {
        let ids = parse(br#"{"object":"list","data":[{"id":"deepseek-v4","object":"model"},{"id":"deepseek-v4-reasoner"}]}"#).unwrap();
        assert_eq!(ids, ["deepseek-v4", "deepseek-v4-reasoner"]);
        assert!(parse(b"[]").is_err());
    }
}
