//! The recent deliveries over HTTP: `GET /deliveries` (newest first;
//! `?source=&door=&limit=`), `GET /deliveries/<id>`, and the read-only page
//! `/deliveries/ui`. Everything answers 404 unless `[deliveries]
//! admin_token` is set; the data needs `Authorization: Bearer <token>`.

use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::json;

use crate::gateway::Gateway;
use crate::respond::{self, Body};

const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

/// `rest` is the path after `/deliveries`.
pub fn route(
    gateway: &Gateway,
    method: &Method,
    headers: &HeaderMap,
    query: Option<&str>,
    rest: &str,
) -> http::Response<Body> {
    let Some(token) = &gateway.deliveries().admin_token else {
        return respond::error(
            StatusCode::NOT_FOUND,
            "not_found",
            "recent deliveries are off (set [deliveries] admin_token)",
        );
    };
    if method != Method::GET && method != Method::HEAD {
        return respond::method_not_allowed("GET, HEAD", "recent deliveries are read-only");
    }
    match rest {
        "/ui" | "/ui/" => return respond::asset(PAGE, "text/html; charset=utf-8"),
        "/ui/page.js" => return respond::asset(SCRIPT, "text/javascript; charset=utf-8"),
        _ => {}
    }
    if !bearer(headers).is_some_and(|presented| token.matches(presented.as_bytes())) {
        let mut response = respond::error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "recent deliveries need Authorization: Bearer <[deliveries] admin_token>",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    let history = &gateway.state().deliveries;
    match rest.trim_start_matches('/') {
        "" => {
            let param = |name: &str| {
                form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                    .find(|(key, _)| key == name)
                    .map(|(_, value)| value.into_owned())
            };
            let limit = param("limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(DEFAULT_LIMIT)
                .min(MAX_LIMIT);
            let (source, door) = (param("source"), param("door"));
            let listed: Vec<_> = history
                .list(source.as_deref(), door.as_deref(), limit)
                .iter()
                .map(|d| d.summary())
                .collect();
            respond::json(StatusCode::OK, &json!({ "deliveries": listed }))
        }
        id => match history.get(id) {
            Some(delivery) => respond::json(StatusCode::OK, &delivery),
            None => respond::error(
                StatusCode::NOT_FOUND,
                "not_found",
                &format!("no recent delivery {id:?} (only the last ones of each door are kept)"),
            ),
        },
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    gate_core::token::bearer(headers.get(header::AUTHORIZATION)?.to_str().ok()?)
}

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("page.js");
