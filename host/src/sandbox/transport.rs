//! Where a call's outbound requests go once the sandbox has checked them:
//! to the network, to recorded exchanges (replay), or to the network with
//! each exchange kept (record).
//!
//! Every sandbox rule applies the same way in all three: the host check,
//! the request cap, reserved headers, retries and the response size cap
//! are enforced before and after this point, in `http.rs`. Only the
//! exchange itself differs.

mod recording;

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use base64::Engine as _;
use url::Url;

pub use recording::{NamedRecording, RecordedRequest, Recording};

use super::bindings::SecretPlacement;
use super::bindings::ferret::provider::http_client::{HttpError, Method, Request, Response};
use super::grant::Grant;
use super::state::CallState;
use recording::Asked;

/// The exchange behind a sandbox's outbound HTTP.
#[derive(Clone, Default)]
pub enum Transport {
    /// The network, as in production.
    #[default]
    Network,
    /// Recorded answers; nothing leaves the machine.
    Replay(Arc<Replayer>),
    /// The network, each exchange kept with its credentials taken out.
    Record(Arc<Recorder>),
}

impl CallState {
    /// One exchange of a checked request, by this call's transport.
    pub(super) async fn exchange(
        &self,
        request: &Request,
        url: &Url,
    ) -> Result<Response, HttpError> {
        match &self.transport {
            Transport::Network => self.send_once(request, url).await,
            Transport::Replay(replayer) => replayer.answer(self, request, url),
            Transport::Record(recorder) => {
                // A timeout or a failed connection has no answer to keep, so
                // a replay of the same call reports that request as having
                // no recording; recordings hold answers only.
                let answer = self.send_once(request, url).await;
                if let Ok(response) = &answer {
                    recorder.keep(self, request, url, response);
                }
                answer
            }
        }
    }
}

/// Recorded exchanges that answer requests in place of the network.
///
/// A request is answered by a recording with the same method, path and
/// query (credential parameters left out) and, when the recording holds a
/// request body, the same body. Several recordings of the same request
/// answer it in turn, in file-name order, and the last one answers any
/// further repeat: a recorded retry or a polled result replays as it
/// happened.
pub struct Replayer {
    recordings: Vec<NamedRecording>,
    state: Mutex<ReplayState>,
}

#[derive(Default)]
struct ReplayState {
    /// Times each recording has answered, by index.
    uses: Vec<u32>,
    /// Requests answered or missed, in order.
    log: Vec<Replayed>,
}

/// One request a replay saw.
#[derive(Debug, Clone)]
pub struct Replayed {
    /// The call that made it (see [`super::CallStats::serial`]).
    pub serial: u64,
    /// `GET /path?query`.
    pub request: String,
    /// The file that answered, or why none did.
    pub answer: Result<String, String>,
}

impl Replayer {
    /// Loads every recording in `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        Ok(Self::new(recording::load_dir(dir)?))
    }

    /// Replays `recordings`, in the order given.
    pub fn new(recordings: Vec<NamedRecording>) -> Self {
        let state = ReplayState { uses: vec![0; recordings.len()], log: Vec::new() };
        Self { recordings, state: Mutex::new(state) }
    }

    /// The recordings, in order.
    pub fn recordings(&self) -> &[NamedRecording] {
        &self.recordings
    }

    /// Takes the requests seen so far.
    pub fn take_log(&self) -> Vec<Replayed> {
        std::mem::take(&mut self.state.lock().expect("replay state lock").log)
    }

    /// Names of recordings that answered nothing.
    pub fn unused(&self) -> Vec<String> {
        let state = self.state.lock().expect("replay state lock");
        self.recordings
            .iter()
            .zip(&state.uses)
            .filter(|(_, uses)| **uses == 0)
            .map(|(named, _)| named.name.clone())
            .collect()
    }

    fn answer(
        &self,
        call: &CallState,
        request: &Request,
        url: &Url,
    ) -> Result<Response, HttpError> {
        let asked = asked(request, url, &call.grant);
        let ignored = credential_parameters(&call.grant);
        let mut state = self.state.lock().expect("replay state lock");

        let mut closest: Option<(u32, usize, Vec<recording::Difference>)> = None;
        let mut matching = Vec::new();
        for (index, named) in self.recordings.iter().enumerate() {
            let found = recording::differences(&named.recording, &asked, &ignored);
            let distance = recording::distance(&found);
            if distance == 0 {
                matching.push(index);
            } else if closest.as_ref().is_none_or(|(best, _, _)| distance < *best) {
                closest = Some((distance, index, found));
            }
        }
        let chosen = matching
            .iter()
            .copied()
            .find(|index| state.uses[*index] == 0)
            .or_else(|| matching.last().copied());

        let Some(index) = chosen else {
            let why = match closest {
                Some((_, index, found)) => format!(
                    "no recording matches {}; the closest is {}, which differs in {}",
                    asked.line(),
                    self.recordings[index].name,
                    found.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                ),
                None => format!("no recording matches {}", asked.line()),
            };
            tracing::warn!(provider = %call.grant.label, command = %call.command, "{why}");
            state.log.push(Replayed {
                serial: call.serial,
                request: asked.line(),
                answer: Err(why.clone()),
            });
            return Err(HttpError::Connection(why));
        };
        state.uses[index] += 1;
        let named = &self.recordings[index];
        tracing::debug!(
            provider = %call.grant.label,
            command = %call.command,
            recording = %named.name,
            "replayed {}",
            asked.line()
        );
        state.log.push(Replayed {
            serial: call.serial,
            request: asked.line(),
            answer: Ok(named.name.clone()),
        });
        drop(state);

        let body = named.recording.response_body();
        let cap = call.grant.limits.max_response_bytes;
        if body.len() as u64 > cap {
            return Err(HttpError::BodyTooLarge(cap));
        }
        Ok(Response {
            status: named.recording.status,
            headers: named.recording.response_headers(),
            body,
        })
    }
}

/// Keeps each live exchange, credentials taken out, for writing to disk.
#[derive(Default)]
pub struct Recorder {
    kept: Mutex<Vec<Kept>>,
}

/// One exchange kept by a [`Recorder`].
#[derive(Debug, Clone)]
pub struct Kept {
    /// The call that made it (see [`super::CallStats::serial`]).
    pub serial: u64,
    /// `GET /path?query`.
    pub request: String,
    /// The exchange, ready to write; its `command` is left for the caller.
    pub recording: Recording,
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the exchanges kept so far.
    pub fn take(&self) -> Vec<Kept> {
        std::mem::take(&mut self.kept.lock().expect("recorder lock"))
    }

    fn keep(&self, call: &CallState, request: &Request, url: &Url, response: &Response) {
        let grant = &call.grant;
        let secrets = secret_forms(grant);
        let (base_url, path) = recording::split_base(url, &grant.base_url);

        let mut headers_required: Vec<String> = Vec::new();
        for (placement, _) in &grant.credentials {
            let name = match placement {
                SecretPlacement::Header(name) => name.clone(),
                SecretPlacement::Query(name) => format!("query param: {name}"),
                SecretPlacement::BasicUsername | SecretPlacement::BasicPassword => {
                    "Authorization".to_owned()
                }
            };
            if !headers_required.contains(&name) {
                headers_required.push(name);
            }
        }
        let content_type = request
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .map(|(_, value)| value.clone());
        for (name, value) in &request.headers {
            headers_required.push(format!("{name}: {}", recording::scrub(value, &secrets)));
        }
        let is_form =
            content_type.as_deref().is_some_and(|kind| kind.contains("x-www-form-urlencoded"));
        let body =
            request.body.as_deref().map(|body| recording::body_value(body, is_form, &secrets));

        let mut answer_headers = serde_json::Map::new();
        for (name, value) in &response.headers {
            let value = recording::scrub(value, &secrets);
            match answer_headers.get_mut(name) {
                // Repeated headers are joined, as HTTP allows for most; a
                // repeated `Set-Cookie` is the exception, and providers have
                // no use for cookies.
                Some(serde_json::Value::String(first)) => {
                    first.push_str(", ");
                    first.push_str(&value);
                }
                _ => {
                    answer_headers.insert(name.clone(), serde_json::Value::String(value));
                }
            }
        }
        let answer_body = if response.body.is_empty() {
            serde_json::Value::Null
        } else {
            recording::body_value(&response.body, false, &secrets)
        };

        let recording = Recording {
            command: None,
            request: RecordedRequest {
                method: method_name(&request.method).to_owned(),
                base_url: recording::scrub(&base_url, &secrets),
                path: recording::scrub(&path, &secrets),
                query: recording::query_object(url, &secrets),
                headers_required,
                content_type: body.as_ref().and(content_type),
                body,
            },
            status: response.status,
            headers: answer_headers,
            body: answer_body,
        };
        let line = asked(request, url, grant).line();
        let kept =
            Kept { serial: call.serial, request: recording::scrub(&line, &secrets), recording };
        self.kept.lock().expect("recorder lock").push(kept);
    }
}

/// A checked request in the terms recordings are compared in.
fn asked(request: &Request, url: &Url, grant: &Grant) -> Asked {
    let (_, path) = recording::split_base(url, &grant.base_url);
    Asked {
        method: method_name(&request.method).to_owned(),
        path,
        query: url
            .query_pairs()
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect(),
        body: request.body.clone(),
    }
}

/// Query parameters the host fills with a credential.
fn credential_parameters(grant: &Grant) -> Vec<String> {
    grant
        .credentials
        .iter()
        .filter_map(|(placement, _)| match placement {
            SecretPlacement::Query(name) => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// Every form in which a credential could come back: as sent, percent
/// encoded as in a URL, and the basic-auth pair in base64. Unlike the
/// redaction of a module's output, the basic-auth user name counts too: a
/// recording is meant to be shared, and an account name is not.
fn secret_forms(grant: &Grant) -> Vec<String> {
    let mut forms = Vec::new();
    let (mut user, mut password) = (None, None);
    for (placement, secret) in &grant.credentials {
        let value = secret.expose();
        match placement {
            SecretPlacement::BasicUsername => user = Some(value),
            SecretPlacement::BasicPassword => password = Some(value),
            _ => {}
        }
        forms.push(value.to_owned());
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        if encoded != value {
            forms.push(encoded);
        }
    }
    if user.is_some() || password.is_some() {
        let pair = format!("{}:{}", user.unwrap_or(""), password.unwrap_or(""));
        forms.push(base64::engine::general_purpose::STANDARD.encode(pair));
    }
    // Longest first, so that a secret containing another is replaced whole.
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    forms.retain(|form| !form.is_empty());
    forms
}

fn method_name(method: &Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Delete => "DELETE",
        Method::Head => "HEAD",
        Method::Patch => "PATCH",
    }
}
