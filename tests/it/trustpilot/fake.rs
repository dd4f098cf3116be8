//! A look-alike of Trustpilot's API on 127.0.0.1: the client-credentials token endpoint (HTTP
//! Basic with the API key and secret, `expires_in` as a string), the business unit's private
//! reviews newest first with `page`/`perPage` and a `next-page` link, and the company reply,
//! one per review (a new one replaces it). Tokens expire by the test's clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

pub const UNIT: &str = "5f0000000000000000000000";
pub const USER: &str = "5f1111111111111111111111";
pub const KEY: &str = "tp-key";
pub const SECRET: &str = "tp-secret";
/// Trustpilot's tokens last 100 hours.
pub const LIFETIME_SECS: i64 = 359_999;

#[derive(Debug, Clone)]
pub struct ReviewRow {
    pub id: String,
    pub stars: u8,
    pub title: String,
    pub text: String,
    pub name: String,
    pub created: DateTime<Utc>,
    pub updated: Option<DateTime<Utc>>,
}

struct Inner {
    clock: Arc<Mutex<DateTime<Utc>>>,
    url: String,
    reviews: Vec<ReviewRow>,
    /// Company replies by review id.
    replies: HashMap<String, String>,
    /// Issued tokens and when they expire.
    tokens: HashMap<String, DateTime<Utc>>,
    issued: usize,
    /// Refuse the key and secret (a revoked application).
    refuse_key: bool,
    /// Tokens that no longer work before their time.
    revoked: Vec<String>,
    lose_next_reply: bool,
    posts: Vec<Value>,
}

#[derive(Clone)]
pub struct FakeTrustpilot {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeTrustpilot {
    pub async fn start(clock: Arc<Mutex<DateTime<Utc>>>) -> FakeTrustpilot {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner {
            clock,
            url: url.clone(),
            reviews: Vec::new(),
            replies: HashMap::new(),
            tokens: HashMap::new(),
            issued: 0,
            refuse_key: false,
            revoked: Vec::new(),
            lose_next_reply: false,
            posts: Vec::new(),
        }));
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeTrustpilot { url, inner }
    }

    pub fn review(&self, row: ReviewRow) {
        let mut inner = self.inner.lock().unwrap();
        inner.reviews.retain(|known| known.id != row.id);
        inner.reviews.push(row);
        inner
            .reviews
            .sort_by_key(|row| std::cmp::Reverse(row.created));
    }

    pub fn reply_outside(&self, review: &str, text: &str) {
        let mut inner = self.inner.lock().unwrap();
        inner.replies.insert(review.into(), text.into());
    }

    pub fn replies(&self) -> HashMap<String, String> {
        self.inner.lock().unwrap().replies.clone()
    }

    pub fn posts(&self) -> Vec<Value> {
        self.inner.lock().unwrap().posts.clone()
    }

    /// How many tokens were asked for.
    pub fn issued(&self) -> usize {
        self.inner.lock().unwrap().issued
    }

    pub fn refuse_key(&self, refuse: bool) {
        self.inner.lock().unwrap().refuse_key = refuse;
    }

    /// Every token issued so far stops working.
    pub fn revoke_tokens(&self) {
        let mut inner = self.inner.lock().unwrap();
        let all: Vec<String> = inner.tokens.keys().cloned().collect();
        inner.revoked.extend(all);
    }

    pub fn lose_next_reply(&self) {
        self.inner.lock().unwrap().lose_next_reply = true;
    }
}

fn fault(status: u16, text: &str) -> (StatusCode, Value) {
    (
        StatusCode::from_u16(status).unwrap(),
        json!({"fault": {"faultstring": text, "detail": {"errorcode": "oauth.v2.InvalidAccessToken"}}}),
    )
}

fn token(inner: &mut Inner, headers: &HeaderMap, body: &str) -> (StatusCode, Value) {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}"))
    );
    let basic = headers.get("authorization").and_then(|v| v.to_str().ok());
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    if inner.refuse_key || basic != Some(expected.as_str()) {
        return fault(401, "Invalid ApiKey");
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            json!({"error": "unsupported_grant_type"}),
        );
    }
    inner.issued += 1;
    let token = format!("tp-token-{}", inner.issued);
    let now = *inner.clock.lock().unwrap();
    inner.tokens.insert(
        token.clone(),
        now + chrono::Duration::seconds(LIFETIME_SECS),
    );
    (
        StatusCode::OK,
        json!({"access_token": token, "expires_in": LIFETIME_SECS.to_string(),
            "issued_at": (now.timestamp_millis()).to_string(), "token_type": "BearerToken",
            "refresh_token": "tp-refresh", "refresh_token_expires_in": "0"}),
    )
}

fn authorised(inner: &Inner, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let now = *inner.clock.lock().unwrap();
    !inner.revoked.iter().any(|revoked| revoked == token)
        && inner
            .tokens
            .get(token)
            .is_some_and(|expires| *expires > now)
}

fn review_json(inner: &Inner, row: &ReviewRow) -> Value {
    let reply = inner.replies.get(&row.id).map(|text| {
        json!({"text": text, "authorBusinessUserId": USER, "authorBusinessUserName": "Acme",
            "createdAt": "2026-12-02T12:00:00Z", "updatedAt": null})
    });
    json!({
        "id": row.id,
        "consumer": {"id": format!("c-{}", row.id), "displayName": row.name, "displayLocation": "Utrecht, NL", "numberOfReviews": 1},
        "businessUnit": {"id": UNIT, "identifyingName": "acme.nl", "displayName": "Acme"},
        "stars": row.stars, "title": row.title, "text": row.text, "language": "nl",
        "createdAt": row.created.to_rfc3339(),
        "updatedAt": row.updated.map(|at| at.to_rfc3339()),
        "companyReply": reply,
        "isVerified": true, "status": "active",
        "links": [{"href": format!("{}/v1/reviews/{}", inner.url, row.id), "method": "GET", "rel": "reviews"}]
    })
}

fn reviews_page(inner: &Inner, query: &HashMap<String, String>) -> (StatusCode, Value) {
    if query.get("orderBy").map(String::as_str) != Some("createdat.desc") {
        return (
            StatusCode::BAD_REQUEST,
            json!({"message": "orderBy is expected"}),
        );
    }
    let per_page: usize = query
        .get("perPage")
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let page: usize = query.get("page").and_then(|n| n.parse().ok()).unwrap_or(1);
    if per_page > 100 || page == 0 {
        return (
            StatusCode::BAD_REQUEST,
            json!({"message": "perPage is 1 to 100"}),
        );
    }
    let start = (page - 1) * per_page;
    let reviews: Vec<Value> = inner
        .reviews
        .iter()
        .skip(start)
        .take(per_page)
        .map(|row| review_json(inner, row))
        .collect();
    let base = format!("{}/v1/private/business-units/{UNIT}/reviews", inner.url);
    let mut links = vec![
        json!({"href": format!("{base}?page={page}&perPage={per_page}"), "method": "GET", "rel": "self"}),
    ];
    if start + per_page < inner.reviews.len() {
        links.push(json!({"href": format!("{base}?page={}&perPage={per_page}", page + 1), "method": "GET", "rel": "next-page"}));
    }
    (StatusCode::OK, json!({"links": links, "reviews": reviews}))
}

fn reply(inner: &mut Inner, review: &str, body: &str) -> (StatusCode, Value) {
    let Ok(request) = serde_json::from_str::<Value>(body) else {
        return (StatusCode::BAD_REQUEST, json!({"message": "not JSON"}));
    };
    if request["authorBusinessUserId"] != USER {
        return (
            StatusCode::FORBIDDEN,
            json!({"message": "The business user may not reply for this business unit"}),
        );
    }
    let Some(message) = request["message"].as_str() else {
        return (
            StatusCode::BAD_REQUEST,
            json!({"message": "message is required"}),
        );
    };
    if !inner.reviews.iter().any(|row| row.id == review) {
        return (
            StatusCode::NOT_FOUND,
            json!({"message": "Review not found"}),
        );
    }
    inner.posts.push(request.clone());
    inner.replies.insert(review.into(), message.into());
    if std::mem::take(&mut inner.lose_next_reply) {
        return (StatusCode::BAD_GATEWAY, json!({"message": "Bad gateway"}));
    }
    (StatusCode::CREATED, Value::Null)
}

async fn answer(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap();
    let path = uri.path().to_string();
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let body = String::from_utf8_lossy(&body).into_owned();
    let reviews = format!("/v1/private/business-units/{UNIT}/reviews");
    let (status, json) = match (method.as_str(), path.as_str()) {
        ("POST", "/v1/oauth/oauth-business-users-for-applications/accesstoken") => {
            token(&mut inner, &headers, &body)
        }
        _ if !authorised(&inner, &headers) => fault(401, "Invalid access token"),
        ("GET", p) if p == reviews => reviews_page(&inner, &query),
        ("POST", p) if p.starts_with("/v1/private/reviews/") && p.ends_with("/reply") => {
            let review = p
                .trim_start_matches("/v1/private/reviews/")
                .trim_end_matches("/reply")
                .to_string();
            reply(&mut inner, &review, &body)
        }
        _ => (StatusCode::NOT_FOUND, json!({"message": "Not found"})),
    };
    if json.is_null() {
        status.into_response()
    } else {
        (
            status,
            [("content-type", "application/json")],
            json.to_string(),
        )
            .into_response()
    }
}
