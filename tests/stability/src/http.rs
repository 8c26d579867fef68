//! A small HTTP client over reqwest: JSON in, status + headers + parsed body out.

use serde_json::Value;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub retry_after: Option<String>,
    pub content_type: String,
    pub set_cookie: Vec<String>,
    /// The body parsed as JSON, or Null.
    pub json: Value,
    pub text: String,
}

#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    pub base: String,
}

impl Http {
    pub fn new(base: &str) -> Result<Http, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(4)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Http {
            client,
            base: base.trim_end_matches('/').to_string(),
        })
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Resp, String> {
        let resp = req
            .send()
            .await
            .map_err(|e| format!("HTTP request failed: {e}"))?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = header("retry-after");
        let content_type = header("content-type").unwrap_or_default();
        let set_cookie = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        let text = resp
            .text()
            .await
            .map_err(|e| format!("reading the body failed: {e}"))?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Resp {
            status,
            retry_after,
            content_type,
            set_cookie,
            json,
            text,
        })
    }

    fn with_auth(
        &self,
        req: reqwest::RequestBuilder,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Result<Resp, String> {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(self.with_auth(req, token)).await
    }

    pub async fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Result<Resp, String> {
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        self.send(self.with_auth(req, token)).await
    }

    /// Any method, content type and raw bytes (for hostile bodies).
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Resp, String> {
        let m = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|e| format!("bad method {method}: {e}"))?;
        let mut req = self
            .client
            .request(m, format!("{}{path}", self.base))
            .body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        self.send(self.with_auth(req, token)).await
    }

    /// GET that must answer 200: the JSON body.
    pub async fn get_ok(&self, path: &str, token: &str) -> Result<Value, String> {
        let r = self.get(path, Some(token)).await?;
        if r.status != 200 {
            return Err(format!(
                "GET {path} answered {}: {}",
                r.status,
                short(&r.text)
            ));
        }
        Ok(r.json)
    }
}

/// At most 300 characters of a body, for error messages.
pub fn short(s: &str) -> String {
    let mut out: String = s.chars().take(300).collect();
    if s.chars().count() > 300 {
        out.push('…');
    }
    out
}
