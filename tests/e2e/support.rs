//! What every end-to-end test needs: the built components, a fake upstream
//! on loopback that serves the recorded samples and records what it was
//! asked, and a `Ferret` built from configuration text.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use ferret_host::command::parse_command_line;
use ferret_host::config::Config;
use ferret_host::dispatch::{CallResult, CommandError, Ferret};
use ferret_host::output::xsoar;
use ferret_host::router::Registry;
use ferret_host::sandbox::Sandbox;

/// The key every test configures; no output may ever show it.
pub const API_KEY: &str = "test-key-3f9a1c";

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ has a parent").to_path_buf()
}

/// A built provider, `target/providers/<id>.wasm`.
pub fn provider_module(id: &str) -> PathBuf {
    built(&workspace().join("target/providers").join(format!("{id}.wasm")))
}

/// A built guest fixture, `target/guests/<name>.wasm`.
pub fn guest_module(name: &str) -> PathBuf {
    built(&workspace().join("target/guests").join(format!("{name}.wasm")))
}

fn built(path: &Path) -> PathBuf {
    assert!(
        path.is_file(),
        "{} is missing: run `cargo xtask build` (or `cargo xtask test`, which builds the \
         components first)",
        path.display()
    );
    path.to_path_buf()
}

/// One recorded upstream answer from `tests/data/samples`.
#[derive(Debug, Clone)]
pub struct Sample {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

/// Reads `tests/data/samples/<provider>/<name>.json`.
pub fn sample(provider: &str, name: &str) -> Sample {
    let file = workspace().join("tests/data/samples").join(provider).join(format!("{name}.json"));
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|error| panic!("{}: {error}", file.display()));
    let json: Value =
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
    let pairs = |value: &Value| -> Vec<(String, String)> {
        value
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, value)| (name.clone(), value.as_str().unwrap_or_default().to_owned()))
            .collect()
    };
    Sample {
        method: json["request"]["method"].as_str().unwrap().to_owned(),
        path: json["request"]["path"].as_str().unwrap().to_owned(),
        query: pairs(&json["request"]["query"]),
        status: json["status"].as_u64().unwrap() as u16,
        headers: pairs(&json["headers"]),
        body: json["body"].clone(),
    }
}

/// Names of every sample of a provider, sorted.
pub fn sample_names(provider: &str) -> Vec<String> {
    let dir = workspace().join("tests/data/samples").join(provider);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A request the fake upstream received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
}

impl Seen {
    /// A header's value; names are lower case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// A query parameter's value.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

/// What a route does.
#[derive(Debug, Clone)]
enum Behaviour {
    Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Holds the connection open and never answers.
    Never,
}

#[derive(Debug, Clone)]
struct Route {
    method: String,
    path: String,
    /// Pairs the request's query must contain.
    query: Vec<(String, String)>,
    behaviour: Behaviour,
}

#[derive(Default)]
struct FakeState {
    routes: Vec<Route>,
    seen: Vec<Seen>,
}

/// A fake upstream on `127.0.0.1:<free port>`. A request no route matches
/// gets `418` with a body naming it, so a test fails on its assertion
/// rather than hanging.
pub struct Fake {
    pub address: SocketAddr,
    state: Arc<Mutex<FakeState>>,
}

impl Fake {
    /// Starts a fake upstream on the current runtime.
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(FakeState::default()));
        let shared = Arc::clone(&state);
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, _body: Bytes| {
                let state = Arc::clone(&shared);
                async move { answer(&state, method, uri, headers).await }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { address, state }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Answers `method path` (with the query pairs given, if any) with
    /// `status`, `headers` and `body`. Later routes win over earlier ones.
    pub fn reply(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        status: u16,
        headers: &[(&str, &str)],
        body: &str,
    ) {
        self.add(
            method,
            path,
            query,
            Behaviour::Reply {
                status,
                headers: headers
                    .iter()
                    .map(|(name, value)| (name.to_string(), value.to_string()))
                    .collect(),
                body: body.as_bytes().to_vec(),
            },
        );
    }

    /// Serves a recorded sample at its own method and path, matching the
    /// sample's query parameters named in `match_query`.
    pub fn serve(&self, sample: &Sample, match_query: &[&str]) {
        let query: Vec<(String, String)> = sample
            .query
            .iter()
            .filter(|(name, _)| match_query.contains(&name.as_str()))
            .cloned()
            .collect();
        let query: Vec<(&str, &str)> =
            query.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
        let headers: Vec<(&str, &str)> =
            sample.headers.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
        self.reply(
            &sample.method,
            &sample.path,
            &query,
            sample.status,
            &headers,
            &sample.body.to_string(),
        );
    }

    /// Never answers `method path`.
    pub fn never_answer(&self, method: &str, path: &str) {
        self.add(method, path, &[], Behaviour::Never);
    }

    /// Answers `method path` with 429 and `Retry-After: <seconds>`.
    pub fn rate_limit(&self, method: &str, path: &str, retry_after: u32) {
        let seconds = retry_after.to_string();
        let body = r#"{"errors":[{"detail":"Too many requests","status":429}],"error":{"code":"TooManyRequests","message":"Too many requests"}}"#;
        self.reply(
            method,
            path,
            &[],
            429,
            &[("Retry-After", &seconds), ("Content-Type", "application/json")],
            body,
        );
    }

    /// Every request received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Requests received whose path starts with `prefix`.
    pub fn seen_under(&self, prefix: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|seen| seen.path.starts_with(prefix)).collect()
    }

    fn add(&self, method: &str, path: &str, query: &[(&str, &str)], behaviour: Behaviour) {
        let route = Route {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            query: query
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            behaviour,
        };
        self.state.lock().unwrap().routes.push(route);
    }
}

async fn answer(
    state: &Mutex<FakeState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
    let seen = Seen {
        method: method.as_str().to_owned(),
        path: uri.path().to_owned(),
        query: query.clone(),
        headers: headers
            .iter()
            .map(|(name, value)| {
                (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned())
            })
            .collect(),
    };
    let behaviour = {
        let mut state = state.lock().unwrap();
        state.seen.push(seen);
        state
            .routes
            .iter()
            .rev()
            .find(|route| {
                route.method == method.as_str()
                    && route.path == uri.path()
                    && route.query.iter().all(|pair| query.contains(pair))
            })
            .map(|route| route.behaviour.clone())
    };
    match behaviour {
        Some(Behaviour::Reply { status, headers, body }) => {
            let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
            for (name, value) in headers {
                response.headers_mut().insert(
                    axum::http::HeaderName::try_from(name.as_str()).unwrap(),
                    axum::http::HeaderValue::try_from(value.as_str()).unwrap(),
                );
            }
            response
        }
        Some(Behaviour::Never) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        None => (StatusCode::IM_A_TEAPOT, format!("no route for {method} {uri}")).into_response(),
    }
}

/// Configuration text for a provider pointed at `fake`, with the test key.
pub fn provider_table(id: &str, fake: &Fake) -> String {
    format!("[providers.{id}]\nbase_url = \"{}\"\napi_key = \"{API_KEY}\"\n", fake.url())
}

/// Where compiled modules are cached between tests, so each module is
/// compiled once per run rather than once per test.
fn shared_data_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("ferret-e2e-data")
}

/// Parses configuration text, with `data_dir` set to the shared cache
/// unless the text sets one.
pub fn config(text: &str) -> Config {
    let text = if text.contains("data_dir") {
        text.to_owned()
    } else {
        format!("data_dir = {:?}\n{text}", shared_data_dir().display().to_string())
    };
    // Each Ferret its own state file (cache, quotas), unless the test
    // names one: answers cached by one test must not answer another's.
    let text = if text.contains("state_file") {
        text
    } else {
        format!("state_file = {:?}\n{text}", fresh_state_file().display().to_string())
    };
    Config::parse(&text).unwrap_or_else(|error| panic!("test configuration: {error:#}\n{text}"))
}

/// A `Ferret` with exactly `modules` loaded under configuration `text`.
pub async fn ferret(text: &str, modules: &[PathBuf]) -> Ferret {
    let config = config(text);
    let sandbox = Sandbox::new(&config.sandbox, Some(&config.cache_dir())).expect("sandbox starts");
    let registry = Registry::load_files(&sandbox, &config, modules).await.expect("modules load");
    Ferret::assemble(sandbox, registry, &config).expect("ferret assembles")
}

/// Runs a command line.
pub async fn execute(ferret: &Ferret, line: &str) -> Result<Vec<CallResult>, CommandError> {
    let line = parse_command_line(line).unwrap_or_else(|error| panic!("`{line}`: {error}"));
    ferret.execute(&line).await
}

/// Runs a command line that must be accepted, and renders its entries.
pub async fn entries(ferret: &Ferret, line: &str) -> Vec<Value> {
    match execute(ferret, line).await {
        Ok(results) => xsoar::entries(&results),
        Err(error) => panic!("`{line}` was refused: {error}"),
    }
}

/// Runs a command line that must be refused, and returns the reason.
pub async fn refusal(ferret: &Ferret, line: &str) -> String {
    match execute(ferret, line).await {
        Ok(results) => {
            panic!("`{line}` was accepted: {:#}", Value::Array(xsoar::entries(&results)))
        }
        Err(error) => error.to_string(),
    }
}

/// The one entry of a command that must give exactly one.
pub async fn only_entry(ferret: &Ferret, line: &str) -> Value {
    let mut all = entries(ferret, line).await;
    assert_eq!(
        all.len(),
        1,
        "`{line}` gave {} entries: {:#}",
        all.len(),
        Value::Array(all.clone())
    );
    all.remove(0)
}

/// The DBotScore context key.
pub const DBOT: &str = xsoar::DBOT_KEY;

/// The only DBotScore object of an entry.
pub fn dbot(entry: &Value) -> &Value {
    let scores = entry["EntryContext"][DBOT]
        .as_array()
        .unwrap_or_else(|| panic!("no DBotScore in {entry:#}"));
    assert_eq!(scores.len(), 1, "{entry:#}");
    &scores[0]
}

/// The text of an error entry (`Type` 4), failing on anything else.
pub fn error_text(entry: &Value) -> String {
    assert_eq!(entry["Type"], 4, "expected an error entry, got {entry:#}");
    assert_eq!(entry["ContentsFormat"], "text", "{entry:#}");
    entry["Contents"].as_str().expect("error contents are text").to_owned()
}

/// A state file no other test uses.
pub fn fresh_state_file() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ferret-e2e-state");
    std::fs::create_dir_all(&dir).expect("state folder");
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let file = dir.join(format!("{}-{nanos}-{n}.sqlite3", std::process::id()));
    let _ = std::fs::remove_file(&file);
    file
}

/// A fake upstream that answers every request with one recorded answer,
/// counts what it served, and can hold a rate limit, delay its answers or
/// refuse its first requests.
pub struct CountingFake {
    pub address: SocketAddr,
    state: Arc<Mutex<CountingState>>,
}

/// A scripted answer: status, headers, body.
type Scripted = (u16, Vec<(String, String)>, String);

struct CountingState {
    status: u16,
    body: String,
    /// At most `limit.0` answers in any window of `limit.1`; beyond it,
    /// 429 with `Retry-After: 1`.
    limit: Option<(usize, Duration)>,
    delay: Duration,
    /// Answers to give first, in order, before the normal one.
    scripted: std::collections::VecDeque<Scripted>,
    served: Vec<(std::time::Instant, String, u16)>,
}

impl CountingFake {
    /// Answers every request with `sample`'s status and body.
    pub async fn start(sample: &Sample) -> Self {
        let state = Arc::new(Mutex::new(CountingState {
            status: sample.status,
            body: sample.body.to_string(),
            limit: None,
            delay: Duration::ZERO,
            scripted: Default::default(),
            served: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        let app = axum::Router::new().fallback(move |uri: Uri| {
            let state = Arc::clone(&shared);
            async move { counted_answer(&state, uri).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { address, state }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Refuses with 429 beyond `count` answers in any `window`.
    pub fn limit(&self, count: usize, window: Duration) {
        self.state.lock().unwrap().limit = Some((count, window));
    }

    /// Holds each answer for `delay`.
    pub fn delay(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    /// Answers the next request with a 429 and `Retry-After: <seconds>`.
    pub fn refuse_next(&self, retry_after: u32) {
        let body = r#"{"error":{"code":"TooManyRequests","message":"Too many requests"}}"#;
        self.state.lock().unwrap().scripted.push_back((
            429,
            vec![("Retry-After".into(), retry_after.to_string())],
            body.into(),
        ));
    }

    /// Every request: when, path and query, the status given.
    pub fn served(&self) -> Vec<(std::time::Instant, String, u16)> {
        self.state.lock().unwrap().served.clone()
    }

    /// Requests answered with `status`.
    pub fn count(&self, status: u16) -> usize {
        self.served().iter().filter(|(_, _, given)| *given == status).count()
    }
}

async fn counted_answer(state: &Mutex<CountingState>, uri: Uri) -> Response {
    let now = std::time::Instant::now();
    let target = uri.path_and_query().map(|pq| pq.to_string()).unwrap_or_default();
    let (status, headers, body, delay) = {
        let mut state = state.lock().unwrap();
        let answered_recently = |state: &CountingState, window: Duration| {
            state
                .served
                .iter()
                .filter(|(at, _, status)| *status != 429 && now.duration_since(*at) < window)
                .count()
        };
        let (status, headers, body) = if let Some(scripted) = state.scripted.pop_front() {
            scripted
        } else if let Some((count, window)) = state.limit
            && answered_recently(&state, window) >= count
        {
            (429, vec![("Retry-After".to_owned(), "1".to_owned())], "{}".to_owned())
        } else {
            (state.status, Vec::new(), state.body.clone())
        };
        state.served.push((now, target, status));
        (status, headers, body, state.delay)
    };
    tokio::time::sleep(delay).await;
    let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
    for (name, value) in headers {
        response.headers_mut().insert(
            axum::http::HeaderName::try_from(name.as_str()).unwrap(),
            axum::http::HeaderValue::try_from(value.as_str()).unwrap(),
        );
    }
    response
}
