//! A look-alike of App Store Connect on 127.0.0.1: customer reviews newest first with
//! `links.next` paging and included responses, one developer response per review (a new one
//! overwrites it), the `X-Rate-Limit` header on every answer, Apple's error documents, and
//! every request's ES256 token checked with the test key's public half (signature, `kid`,
//! `iss`, audience, expiry by the test's clock, lifetime at most 20 minutes).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

pub const ISSUER: &str = "57246542-96fe-1a63-e053-0824d011072a";
pub const KEY_ID: &str = "TEST000001";
pub const APP_ID: &str = "1234567890";
pub const APP_NAME: &str = "Acme Coffee";

#[derive(Debug, Clone)]
pub struct ReviewRow {
    pub id: String,
    pub rating: u8,
    pub title: String,
    pub body: String,
    pub nickname: String,
    pub created: DateTime<Utc>,
    pub territory: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevResponse {
    pub id: String,
    pub body: String,
}

/// A token the fake accepted.
#[derive(Debug, Clone)]
pub struct Token {
    pub raw: String,
    pub iat: i64,
    pub exp: i64,
}

struct Inner {
    clock: Arc<Mutex<DateTime<Utc>>>,
    key: DecodingKey,
    url: String,
    reviews: Vec<ReviewRow>,
    responses: HashMap<String, DevResponse>,
    next_response: u32,
    remaining: i64,
    accepted: Vec<Token>,
    /// Why requests were refused with 401.
    refused: Vec<String>,
    /// Apply the next response, then answer 500 as if the answer was lost on the way.
    lose_next_post: bool,
    /// Refuse the next N requests' tokens (a key Apple stopped honouring for a moment).
    refuse_tokens: u32,
    /// Every request is answered with this status and Apple error code (a revoked key, a
    /// key without the role).
    refuse_all: Option<(u16, &'static str, &'static str)>,
    /// A response still pending cannot be overwritten: 409 (to test the delete and re-post).
    conflict_on_overwrite: bool,
    posts: Vec<String>,
    requests: Vec<String>,
}

#[derive(Clone)]
pub struct FakeAsc {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeAsc {
    pub async fn start(clock: Arc<Mutex<DateTime<Utc>>>) -> FakeAsc {
        let public = crate::fake_net::fixture("app_store/AuthKey_TEST000001.pub.pem");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner {
            clock,
            key: DecodingKey::from_ec_pem(public.as_bytes()).unwrap(),
            url: url.clone(),
            reviews: Vec::new(),
            responses: HashMap::new(),
            next_response: 1,
            remaining: 3600,
            accepted: Vec::new(),
            refused: Vec::new(),
            lose_next_post: false,
            refuse_tokens: 0,
            refuse_all: None,
            conflict_on_overwrite: false,
            posts: Vec::new(),
            requests: Vec::new(),
        }));
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeAsc { url, inner }
    }

    /// Adds or replaces (an edit) a review.
    pub fn review(&self, row: ReviewRow) {
        let mut inner = self.inner.lock().unwrap();
        inner.reviews.retain(|known| known.id != row.id);
        inner.reviews.push(row);
        inner
            .reviews
            .sort_by_key(|row| std::cmp::Reverse(row.created));
    }

    /// A response written in App Store Connect itself.
    pub fn respond_outside(&self, review: &str, body: &str) {
        let mut inner = self.inner.lock().unwrap();
        let id = format!("resp-{}", inner.next_response);
        inner.next_response += 1;
        inner.responses.insert(
            review.into(),
            DevResponse {
                id,
                body: body.into(),
            },
        );
    }

    pub fn responses(&self) -> HashMap<String, DevResponse> {
        self.inner.lock().unwrap().responses.clone()
    }

    pub fn posts(&self) -> Vec<String> {
        self.inner.lock().unwrap().posts.clone()
    }

    pub fn requests(&self) -> Vec<String> {
        self.inner.lock().unwrap().requests.clone()
    }

    pub fn accepted(&self) -> Vec<Token> {
        self.inner.lock().unwrap().accepted.clone()
    }

    pub fn refused(&self) -> Vec<String> {
        self.inner.lock().unwrap().refused.clone()
    }

    pub fn lose_next_post(&self) {
        self.inner.lock().unwrap().lose_next_post = true;
    }

    pub fn refuse_tokens(&self, times: u32) {
        self.inner.lock().unwrap().refuse_tokens = times;
    }

    pub fn refuse_all(&self, refusal: Option<(u16, &'static str, &'static str)>) {
        self.inner.lock().unwrap().refuse_all = refusal;
    }

    pub fn conflict_on_overwrite(&self) {
        self.inner.lock().unwrap().conflict_on_overwrite = true;
    }

    pub fn set_remaining(&self, remaining: i64) {
        self.inner.lock().unwrap().remaining = remaining;
    }
}

fn error(status: u16, code: &str, detail: &str) -> (StatusCode, Value) {
    (
        StatusCode::from_u16(status).unwrap(),
        json!({"errors": [{"id": "6c5d9e3f-0000-4000-8000-000000000000", "status": status.to_string(),
            "code": code, "title": "The request was refused.", "detail": detail}]}),
    )
}

fn not_authorized() -> (StatusCode, Value) {
    error(
        401,
        "NOT_AUTHORIZED",
        "Provide a properly configured and signed bearer token, and make sure that it has not expired.",
    )
}

/// Checks the bearer token as Apple documents it.
fn verify(inner: &mut Inner, headers: &HeaderMap) -> Result<(), String> {
    let token = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or("no bearer token")?;
    let header = jsonwebtoken::decode_header(token).map_err(|e| format!("header: {e}"))?;
    if header.alg != Algorithm::ES256 {
        return Err(format!("alg {:?}", header.alg));
    }
    if header.kid.as_deref() != Some(KEY_ID) {
        return Err(format!("kid {:?}", header.kid));
    }
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&["appstoreconnect-v1"]);
    validation.set_issuer(&[ISSUER]);
    // Expiry is judged by the test's clock, below.
    validation.validate_exp = false;
    validation.set_required_spec_claims(&["iss", "aud", "exp"]);
    let claims = jsonwebtoken::decode::<Value>(token, &inner.key, &validation)
        .map_err(|e| format!("signature or claims: {e}"))?
        .claims;
    let (iat, exp) = (
        claims["iat"].as_i64().ok_or("no iat")?,
        claims["exp"].as_i64().ok_or("no exp")?,
    );
    let now = inner.clock.lock().unwrap().timestamp();
    if exp <= now {
        return Err(format!("expired {}s ago", now - exp));
    }
    if exp - iat > 20 * 60 {
        return Err(format!("lives {}s, more than 20 minutes", exp - iat));
    }
    inner.accepted.push(Token {
        raw: token.to_string(),
        iat,
        exp,
    });
    Ok(())
}

fn review_json(inner: &Inner, row: &ReviewRow) -> Value {
    let response = inner
        .responses
        .get(&row.id)
        .map(|response| json!({"type": "customerReviewResponses", "id": response.id}));
    json!({
        "type": "customerReviews",
        "id": row.id,
        "attributes": {
            "rating": row.rating,
            "title": row.title,
            "body": row.body,
            "reviewerNickname": row.nickname,
            "createdDate": row.created.to_rfc3339(),
            "territory": row.territory,
        },
        "relationships": {"response": {
            "data": response,
            "links": {"self": format!("{}/v1/customerReviews/{}/relationships/response", inner.url, row.id)}
        }},
        "links": {"self": format!("{}/v1/customerReviews/{}", inner.url, row.id)}
    })
}

fn response_json(inner: &Inner, review: &str, response: &DevResponse) -> Value {
    json!({
        "data": {
            "type": "customerReviewResponses",
            "id": response.id,
            "attributes": {"responseBody": response.body,
                "lastModifiedDate": inner.clock.lock().unwrap().to_rfc3339(), "state": "PENDING_PUBLISH"},
            "relationships": {"review": {"data": {"type": "customerReviews", "id": review}}},
        },
        "links": {"self": format!("{}/v1/customerReviewResponses/{}", inner.url, response.id)}
    })
}

fn reviews_page(inner: &Inner, query: &HashMap<String, String>) -> (StatusCode, Value) {
    if query.get("sort").map(String::as_str) != Some("-createdDate")
        || query.get("include").map(String::as_str) != Some("response")
    {
        return error(
            400,
            "PARAMETER_ERROR.INVALID",
            "sort and include are expected",
        );
    }
    let limit: usize = query
        .get("limit")
        .and_then(|limit| limit.parse().ok())
        .unwrap_or(50);
    if limit > 200 {
        return error(400, "PARAMETER_ERROR.INVALID", "limit is at most 200");
    }
    let start: usize = query
        .get("cursor")
        .and_then(|cursor| cursor.strip_prefix("Mg."))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let rows: Vec<&ReviewRow> = inner.reviews.iter().skip(start).take(limit).collect();
    let data: Vec<Value> = rows.iter().map(|row| review_json(inner, row)).collect();
    let included: Vec<Value> = rows
        .iter()
        .filter_map(|row| {
            let response = inner.responses.get(&row.id)?;
            Some(response_json(inner, &row.id, response)["data"].clone())
        })
        .collect();
    let base = format!("{}/v1/apps/{APP_ID}/customerReviews", inner.url);
    let mut links = json!({"self": base});
    if start + limit < inner.reviews.len() {
        links["next"] = json!(format!(
            "{base}?cursor=Mg.{}&limit={limit}&sort=-createdDate&include=response",
            start + limit
        ));
    }
    (
        StatusCode::OK,
        json!({"data": data, "included": included, "links": links,
            "meta": {"paging": {"total": inner.reviews.len(), "limit": limit}}}),
    )
}

fn post_response(inner: &mut Inner, body: &str) -> (StatusCode, Value) {
    let Ok(request) = serde_json::from_str::<Value>(body) else {
        return error(400, "ENTITY_ERROR", "the body is not JSON");
    };
    let data = &request["data"];
    let (Some(text), Some(review)) = (
        data["attributes"]["responseBody"].as_str(),
        data["relationships"]["review"]["data"]["id"].as_str(),
    ) else {
        return error(
            409,
            "ENTITY_ERROR.ATTRIBUTE.REQUIRED",
            "responseBody and review are required",
        );
    };
    if data["type"] != "customerReviewResponses" {
        return error(
            409,
            "ENTITY_ERROR.INCLUDED.INVALID",
            "type must be customerReviewResponses",
        );
    }
    if !inner.reviews.iter().any(|row| row.id == review) {
        return error(
            404,
            "NOT_FOUND",
            "There is no resource of type 'customerReviews' with this id",
        );
    }
    inner.posts.push(text.to_string());
    if inner.conflict_on_overwrite && inner.responses.contains_key(review) {
        return error(
            409,
            "STATE_ERROR",
            "The response is pending review and cannot be changed",
        );
    }
    let id = match inner.responses.get(review) {
        Some(existing) => existing.id.clone(),
        None => {
            inner.next_response += 1;
            format!("resp-{}", inner.next_response)
        }
    };
    let response = DevResponse {
        id,
        body: text.to_string(),
    };
    inner.responses.insert(review.to_string(), response.clone());
    if std::mem::take(&mut inner.lose_next_post) {
        return error(
            500,
            "UNEXPECTED_ERROR",
            "An unexpected error occurred on the server side.",
        );
    }
    (StatusCode::CREATED, response_json(inner, review, &response))
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
    inner.requests.push(format!("{method} {path}"));
    inner.remaining -= 1;
    let rate = format!(
        "user-hour-lim:3600;user-hour-rem:{};",
        inner.remaining.max(0)
    );
    let (status, json) = if let Err(why) = verify(&mut inner, &headers) {
        inner.refused.push(why);
        not_authorized()
    } else if inner.refuse_tokens > 0 {
        inner.refuse_tokens -= 1;
        inner.refused.push("refused on purpose".into());
        not_authorized()
    } else if let Some((status, code, detail)) = inner.refuse_all {
        error(status, code, detail)
    } else if inner.remaining < 0 {
        error(
            429,
            "RATE_LIMIT_EXCEEDED",
            "The request rate limit has been reached.",
        )
    } else {
        let body = String::from_utf8_lossy(&body).into_owned();
        let reviews = format!("/v1/apps/{APP_ID}/customerReviews");
        let app = format!("/v1/apps/{APP_ID}");
        match (method.as_str(), path.as_str()) {
            ("GET", p) if p == app => (
                StatusCode::OK,
                json!({"data": {"type": "apps", "id": APP_ID, "attributes": {"name": APP_NAME, "bundleId": "com.acme.coffee"}}}),
            ),
            ("GET", p) if p == reviews => reviews_page(&inner, &query),
            ("POST", "/v1/customerReviewResponses") => post_response(&mut inner, &body),
            ("GET", p) if p.starts_with("/v1/customerReviews/") && p.ends_with("/response") => {
                let review = p
                    .trim_start_matches("/v1/customerReviews/")
                    .trim_end_matches("/response")
                    .to_string();
                match inner.responses.get(&review).cloned() {
                    Some(response) => (StatusCode::OK, response_json(&inner, &review, &response)),
                    None => error(404, "NOT_FOUND", "no response"),
                }
            }
            ("DELETE", p) if p.starts_with("/v1/customerReviewResponses/") => {
                let id = p
                    .trim_start_matches("/v1/customerReviewResponses/")
                    .to_string();
                let before = inner.responses.len();
                inner.responses.retain(|_, response| response.id != id);
                if inner.responses.len() < before {
                    (StatusCode::NO_CONTENT, Value::Null)
                } else {
                    error(404, "NOT_FOUND", "no such response")
                }
            }
            _ => error(404, "NOT_FOUND", "The specified resource does not exist"),
        }
    };
    let mut response = if json.is_null() {
        status.into_response()
    } else {
        (
            status,
            [("content-type", "application/json")],
            json.to_string(),
        )
            .into_response()
    };
    response
        .headers_mut()
        .insert("x-rate-limit", rate.parse().unwrap());
    response
}
