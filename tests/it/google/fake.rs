//! A look-alike of Google on 127.0.0.1: the OAuth token endpoint (refresh-token grant, and the
//! JWT-bearer grant whose RS256 assertion it verifies with the test key's public half), the
//! Business Profile v4 reviews API and the Play Developer API's reviews, with their documented
//! JSON, paging and error bodies. It keeps state like the real ones: a reply is an upsert.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

pub const ACCOUNT: &str = "accounts/1234567890";
pub const LOCATION: &str = "locations/9876543210";
pub const PACKAGE: &str = "com.acme.app";
pub const CLIENT_ID: &str = "cid.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "csecret";
pub const REFRESH_TOKEN: &str = "1//refresh";
pub const SERVICE_EMAIL: &str = "earshot@acme-play.iam.gserviceaccount.com";
pub const KEY_ID: &str = "0123456789abcdef";
pub const PLAY_SCOPE: &str = "https://www.googleapis.com/auth/androidpublisher";

pub type Clock = Arc<Mutex<DateTime<Utc>>>;

#[derive(Default)]
pub struct Google {
    /// Access tokens given out, and when each expires (by the test's clock).
    pub tokens: HashMap<String, DateTime<Utc>>,
    pub token_requests: Vec<HashMap<String, String>>,
    /// Where each token request went.
    pub token_paths: Vec<String>,
    /// Refuses the refresh token (`invalid_grant`).
    pub refresh_revoked: bool,
    /// Refuses every assertion (a deleted key).
    pub key_revoked: bool,
    /// API requests whose token was refused.
    pub refused_tokens: usize,
    /// Business Profile reviews, newest change first, as the API returns them.
    pub gbp: Vec<Value>,
    /// Play reviews, newest first.
    pub play: Vec<Value>,
    /// The next reply is applied, then answered 503, as if the response was lost.
    pub lose_next_reply: bool,
    /// Reply requests received: (review id, text).
    pub reply_calls: Vec<(String, String)>,
    /// Reviews per page at most (the APIs may return fewer than asked).
    pub page_cap: usize,
    /// API requests: (method, path, query).
    pub requests: Vec<(String, String, HashMap<String, String>)>,
    /// The next review list answers this error instead.
    pub next_list_error: Option<(u16, Value)>,
}

#[derive(Clone)]
pub struct Fake {
    pub url: String,
    pub state: Arc<Mutex<Google>>,
    clock: Clock,
    public_key: Arc<Vec<u8>>,
}

impl Fake {
    pub async fn start(clock: Clock, public_key: &[u8]) -> Fake {
        let state = Arc::new(Mutex::new(Google {
            page_cap: 2,
            ..Google::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let fake = Fake {
            url,
            state,
            clock,
            public_key: Arc::new(public_key.to_vec()),
        };
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    pub fn token_url(&self) -> String {
        format!("{}/token", self.url)
    }

    pub fn with<T>(&self, change: impl FnOnce(&mut Google) -> T) -> T {
        change(&mut self.state.lock().unwrap())
    }

    fn now(&self) -> DateTime<Utc> {
        *self.clock.lock().unwrap()
    }
}

pub fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A Business Profile review as `reviews.list` shows it.
pub fn gbp_review(id: &str, stars: &str, comment: &str, created: DateTime<Utc>) -> Value {
    json!({
        "name": format!("{ACCOUNT}/{LOCATION}/reviews/{id}"),
        "reviewId": id,
        "reviewer": {"profilePhotoUrl": "https://lh3.googleusercontent.example/a.png", "displayName": format!("Reviewer {id}"), "isAnonymous": false},
        "starRating": stars,
        "comment": comment,
        "createTime": stamp(created),
        "updateTime": stamp(created),
    })
}

/// A Play review as `reviews.list` shows it.
pub fn play_review(id: &str, stars: u8, text: &str, modified: DateTime<Utc>) -> Value {
    json!({
        "reviewId": id,
        "authorName": format!("Player {id}"),
        "comments": [{"userComment": {
            "text": format!("\t{text}"),
            "lastModified": {"seconds": modified.timestamp().to_string(), "nanos": 0},
            "starRating": stars,
            "reviewerLanguage": "en_US",
            "device": "a51",
            "androidOsVersion": 34,
            "appVersionCode": 231,
            "appVersionName": "2.3.1",
            "thumbsUpCount": 0,
            "thumbsDownCount": 0,
        }}]
    })
}

fn google_error(code: u16, status: &str, message: &str) -> Response {
    (
        StatusCode::from_u16(code).unwrap(),
        [("content-type", "application/json")],
        json!({"error": {"code": code, "message": message, "status": status}}).to_string(),
    )
        .into_response()
}

fn ok(body: Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn answer(
    State(fake): State<Fake>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let body = String::from_utf8_lossy(&body).into_owned();
    // `/proxy/token` stands for a proxy in front of Google's endpoint.
    if (path == "/token" || path == "/proxy/token") && method == Method::POST {
        fake.state.lock().unwrap().token_paths.push(path.clone());
        return token(&fake, &body);
    }
    let now = fake.now();
    let mut google = fake.state.lock().unwrap();
    google
        .requests
        .push((method.to_string(), path.clone(), query.clone()));
    let bearer = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    if google
        .tokens
        .get(&bearer)
        .is_none_or(|expires| *expires <= now)
    {
        google.refused_tokens += 1;
        return google_error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        );
    }
    let gbp_reviews = format!("/v4/{ACCOUNT}/{LOCATION}/reviews");
    let play_reviews = format!("/androidpublisher/v3/applications/{PACKAGE}/reviews");
    let cap = google.page_cap.max(1);
    if method == Method::GET && (path == gbp_reviews || path == play_reviews) {
        if let Some((code, error)) = google.next_list_error.take() {
            return (StatusCode::from_u16(code).unwrap(), error.to_string()).into_response();
        }
        let gbp = path == gbp_reviews;
        let (size_key, token_key) = if gbp {
            ("pageSize", "pageToken")
        } else {
            ("maxResults", "token")
        };
        let asked: usize = query
            .get(size_key)
            .and_then(|size| size.parse().ok())
            .unwrap_or(10);
        let start: usize = query
            .get(token_key)
            .and_then(|token| token.strip_prefix("at-"))
            .and_then(|at| at.parse().ok())
            .unwrap_or(0);
        let all = if gbp { &google.gbp } else { &google.play };
        let end = (start + asked.min(cap)).min(all.len());
        let items: Vec<Value> = all[start.min(end)..end].to_vec();
        let next = (end < all.len()).then(|| format!("at-{end}"));
        return ok(if gbp {
            let mut page =
                json!({"reviews": items, "averageRating": 3.0, "totalReviewCount": all.len()});
            if let Some(next) = next {
                page["nextPageToken"] = json!(next);
            }
            page
        } else {
            let mut page = json!({"reviews": items, "pageInfo": {"totalResults": all.len(), "resultPerPage": asked, "startIndex": start}});
            if let Some(next) = next {
                page["tokenPagination"] = json!({"nextPageToken": next});
            }
            page
        });
    }
    // PUT /v4/{name}/reply {comment}: creates or replaces the reply.
    if method == Method::PUT {
        if let Some(id) = path
            .strip_prefix(&format!("{gbp_reviews}/"))
            .and_then(|rest| rest.strip_suffix("/reply"))
        {
            let comment = serde_json::from_str::<Value>(&body).unwrap()["comment"]
                .as_str()
                .unwrap()
                .to_string();
            google.reply_calls.push((id.to_string(), comment.clone()));
            let Some(review) = google.gbp.iter_mut().find(|r| r["reviewId"] == id) else {
                return google_error(404, "NOT_FOUND", "Requested entity was not found.");
            };
            let reply = json!({"comment": comment, "updateTime": stamp(now)});
            review["reviewReply"] = reply.clone();
            if std::mem::take(&mut google.lose_next_reply) {
                return google_error(503, "UNAVAILABLE", "The service is currently unavailable.");
            }
            return ok(reply);
        }
    }
    if method == Method::GET {
        if let Some(id) = path.strip_prefix(&format!("{gbp_reviews}/")) {
            return match google.gbp.iter().find(|r| r["reviewId"] == id) {
                Some(review) => ok(review.clone()),
                None => google_error(404, "NOT_FOUND", "Requested entity was not found."),
            };
        }
    }
    // POST .../reviews/{id}:reply {replyText}: replies or updates the reply.
    if method == Method::POST {
        if let Some(id) = path
            .strip_prefix(&format!("{play_reviews}/"))
            .and_then(|rest| rest.strip_suffix(":reply"))
        {
            let text = serde_json::from_str::<Value>(&body).unwrap()["replyText"]
                .as_str()
                .unwrap()
                .to_string();
            google.reply_calls.push((id.to_string(), text.clone()));
            let Some(review) = google.play.iter_mut().find(|r| r["reviewId"] == id) else {
                return google_error(404, "NOT_FOUND", "No review found.");
            };
            let edited = json!({"seconds": now.timestamp().to_string(), "nanos": 0});
            let comments = review["comments"].as_array_mut().unwrap();
            comments.retain(|comment| comment.get("developerComment").is_none());
            comments.push(json!({"developerComment": {"text": text, "lastModified": edited}}));
            if std::mem::take(&mut google.lose_next_reply) {
                return google_error(503, "UNAVAILABLE", "The service is currently unavailable.");
            }
            return ok(json!({"result": {"replyText": text, "lastEdited": edited}}));
        }
    }
    google_error(404, "NOT_FOUND", &format!("no such method {method} {path}"))
}

/// Google's token endpoint: both grants, with Google's refusals.
fn token(fake: &Fake, body: &str) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let now = fake.now();
    let mut google = fake.state.lock().unwrap();
    google.token_requests.push(form.clone());
    let refuse = |error: &str, description: &str| {
        (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/json")],
            json!({"error": error, "error_description": description}).to_string(),
        )
            .into_response()
    };
    match form.get("grant_type").map(String::as_str) {
        Some("refresh_token") => {
            if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
                || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
            {
                return refuse("invalid_client", "The OAuth client was not found.");
            }
            if google.refresh_revoked
                || form.get("refresh_token").map(String::as_str) != Some(REFRESH_TOKEN)
            {
                return refuse("invalid_grant", "Token has been expired or revoked.");
            }
        }
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => {
            let assertion = form.get("assertion").cloned().unwrap_or_default();
            if let Err(problem) = verify(fake, &assertion, now) {
                return refuse("invalid_grant", &problem);
            }
            if google.key_revoked {
                return refuse("invalid_grant", "Invalid JWT Signature.");
            }
        }
        _ => return refuse("unsupported_grant_type", "Invalid grant_type."),
    }
    let token = format!("ya29.token-{}", google.token_requests.len());
    google
        .tokens
        .insert(token.clone(), now + chrono::Duration::seconds(3599));
    ok(json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}))
}

/// The checks Google makes of a service account's assertion: RS256 signed by the account's key
/// (its public half here), issuer the account, audience the token endpoint, the Play scope, an
/// hour at most, issued now.
fn verify(fake: &Fake, assertion: &str, now: DateTime<Utc>) -> Result<(), String> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|e| format!("Invalid JWT: {e}"))?;
    if header.alg != Algorithm::RS256 || header.kid.as_deref() != Some(KEY_ID) {
        return Err(format!(
            "Invalid JWT header {:?} {:?}",
            header.alg, header.kid
        ));
    }
    let key = DecodingKey::from_rsa_pem(&fake.public_key).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[fake.token_url()]);
    validation.set_issuer(&[SERVICE_EMAIL]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    let claims = jsonwebtoken::decode::<Value>(assertion, &key, &validation)
        .map_err(|e| format!("Invalid JWT Signature ({e})."))?
        .claims;
    if claims["scope"] != PLAY_SCOPE {
        return Err(format!("Invalid scope {}", claims["scope"]));
    }
    let iat = claims["iat"].as_i64().unwrap_or_default();
    let exp = claims["exp"].as_i64().unwrap_or_default();
    if exp - iat > 3600 || (iat - now.timestamp()).abs() > 300 {
        return Err("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.".into());
    }
    Ok(())
}
