//! Every way a Docker Hub request is refused, and the door settings that
//! decide it.

use gate_core::{DynSource, OpenDoor, Rejection, Request};
use gate_source_dockerhub::DockerHub;
use http::{HeaderMap, StatusCode};

const TOKEN: &str = "s3cr3t-door-token-abcdef";
const BODY: &[u8] = br#"{"callback_url":"https://registry.hub.docker.com/u/acme/w/hook/x/","push_data":{"pusher":"octocat","tag":"1.2.0"},"repository":{"repo_name":"acme/widgets","repo_url":"https://hub.docker.com/r/acme/widgets"}}"#;

fn open(toml_text: &str) -> Result<(Box<dyn DynSource>, OpenDoor), String> {
    let source = gate_core::erase(DockerHub);
    let table: toml::Table = toml::from_str(toml_text).expect("toml");
    let door = source
        .open_door("acme", table, "sources.DockerHub.doors.acme")
        .map_err(|e| e.to_string())?;
    Ok((source, door))
}

fn door(extra: &str) -> (Box<dyn DynSource>, OpenDoor) {
    open(&format!("token = \"{TOKEN}\"\n{extra}")).expect("door opens")
}

fn json_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/json".parse().expect("value"));
    headers
}

fn request<'a>(headers: &'a HeaderMap, query: Option<&'a str>) -> Request<'a> {
    Request {
        headers,
        body: BODY,
        query,
        peer: None,
    }
}

async fn status(source: &dyn DynSource, door: &OpenDoor, request: &Request<'_>) -> StatusCode {
    match source.receive(request, door).await {
        Ok(_) => StatusCode::OK,
        Err(rejection) => rejection.status(),
    }
}

#[tokio::test]
async fn token_in_query_or_header_is_accepted() {
    let (source, door) = door("");
    let headers = json_headers();
    let query = format!("a=1&token={TOKEN}");
    let received = source
        .receive(&request(&headers, Some(&query)), &door)
        .await
        .expect("accepted");
    assert_eq!(
        received.delivery, None,
        "no push time in this body: no identity"
    );
    assert_eq!(received.notifications.len(), 1);
    assert_eq!(
        received.notifications[0].text,
        "octocat pushed acme/widgets:1.2.0 to Docker Hub"
    );

    let mut headers = json_headers();
    headers.insert("x-gate-token", TOKEN.parse().expect("value"));
    assert_eq!(
        status(source.as_ref(), &door, &request(&headers, None)).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn missing_token_is_401_and_wrong_token_403() {
    let (source, door) = door("");
    let headers = json_headers();
    let err = source
        .receive(&request(&headers, None), &door)
        .await
        .unwrap_err();
    assert!(matches!(err, Rejection::Unauthorized(_)), "{err:?}");
    assert_eq!(err.status(), StatusCode::UNAUTHORIZED);

    let err = source
        .receive(
            &request(&headers, Some("token=s3cr3t-door-token-abcdeX")),
            &door,
        )
        .await
        .unwrap_err();
    assert_eq!(err, Rejection::Forbidden("token does not match".into()));
    assert!(!err.to_string().contains(TOKEN));

    let mut wrong_header = json_headers();
    wrong_header.insert("x-gate-token", "guess".parse().expect("value"));
    assert_eq!(
        status(source.as_ref(), &door, &request(&wrong_header, None)).await,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn non_json_content_is_415_no_content_type_is_json_and_bad_bodies_400() {
    let (source, door) = door("");
    let query = format!("token={TOKEN}");
    let mut form = HeaderMap::new();
    form.insert(
        "content-type",
        "application/x-www-form-urlencoded".parse().expect("value"),
    );
    let err = source
        .receive(&request(&form, Some(&query)), &door)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Rejection::UnsupportedMediaType("application/x-www-form-urlencoded".into())
    );
    // Senders of the original service post JSON without a content type.
    let none = HeaderMap::new();
    assert_eq!(
        status(source.as_ref(), &door, &request(&none, Some(&query))).await,
        StatusCode::OK
    );
    let mut text = HeaderMap::new();
    text.insert("content-type", "text/plain".parse().expect("value"));
    assert_eq!(
        status(source.as_ref(), &door, &request(&text, Some(&query))).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );

    let headers = json_headers();
    for body in [
        &b"{not json"[..],
        b"\xff\xfe",
        b"[]",
        br#"[{"pusher":"octocat"},{"repo_name":"acme/widgets"}]"#,
        br#"{"push_data":{}}"#,
    ] {
        let request = Request {
            body,
            ..request(&headers, Some(&query))
        };
        let err = source.receive(&request, &door).await.unwrap_err();
        assert!(matches!(err, Rejection::Malformed(_)), "{body:?}: {err:?}");
    }
}

#[tokio::test]
async fn token_is_checked_before_the_body_is_read() {
    let (source, door) = door("");
    let headers = HeaderMap::new();
    let request = Request {
        body: b"garbage",
        ..request(&headers, None)
    };
    assert_eq!(
        status(source.as_ref(), &door, &request).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn allow_list_checks_the_peer() {
    let (source, door) = door(r#"allow_ips = ["203.0.113.0/24", "2001:db8::/32"]"#);
    let headers = json_headers();
    let query = format!("token={TOKEN}");
    for (peer, expected) in [
        ("203.0.113.7", StatusCode::OK),
        ("2001:db8::9", StatusCode::OK),
        ("::ffff:203.0.113.7", StatusCode::OK),
        ("198.51.100.7", StatusCode::FORBIDDEN),
        ("2001:db9::1", StatusCode::FORBIDDEN),
    ] {
        let request = Request {
            peer: Some(peer.parse().expect("ip")),
            ..request(&headers, Some(&query))
        };
        assert_eq!(
            status(source.as_ref(), &door, &request).await,
            expected,
            "{peer}"
        );
    }
    let unknown = request(&headers, Some(&query));
    assert_eq!(
        source.receive(&unknown, &door).await.unwrap_err(),
        Rejection::Forbidden("client address unknown".into())
    );
}

#[tokio::test]
async fn a_refused_address_is_403_even_with_the_right_token() {
    let (source, door) = door(r#"allow_ips = ["203.0.113.0/24"]"#);
    let mut headers = json_headers();
    headers.insert("x-gate-token", TOKEN.parse().expect("value"));
    let request = Request {
        peer: Some("198.51.100.7".parse().expect("ip")),
        ..request(&headers, None)
    };
    assert_eq!(
        source.receive(&request, &door).await.unwrap_err(),
        Rejection::Forbidden("client address 198.51.100.7 is not allowed".into())
    );
}

#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let (source, door) = door(
        r#"allow_ips = ["203.0.113.0/24"]
        trusted_proxies = ["10.0.0.0/8", "fd00::/8"]"#,
    );
    let query = format!("token={TOKEN}");
    let cases = [
        // Through one trusted proxy.
        ("10.1.2.3", "203.0.113.7", StatusCode::OK),
        // Through two trusted proxies, IPv6 inner hop.
        ("10.1.2.3", "203.0.113.7, fd00::2", StatusCode::OK),
        // A forged left-most entry does not help the real client.
        (
            "10.1.2.3",
            "203.0.113.7, 198.51.100.7",
            StatusCode::FORBIDDEN,
        ),
        // An untrusted peer cannot claim an address.
        ("198.51.100.7", "203.0.113.7", StatusCode::FORBIDDEN),
        ("10.1.2.3", "garbage", StatusCode::FORBIDDEN),
    ];
    for (peer, forwarded, expected) in cases {
        let mut headers = json_headers();
        headers.insert("x-forwarded-for", forwarded.parse().expect("value"));
        let request = Request {
            peer: Some(peer.parse().expect("ip")),
            ..request(&headers, Some(&query))
        };
        assert_eq!(
            status(source.as_ref(), &door, &request).await,
            expected,
            "{peer} / {forwarded}"
        );
    }
}

#[test]
fn door_settings_are_validated() {
    let cases = [
        ("", "token is required"),
        ("token = \"short-token\"", "token is too short"),
        (
            &format!("token = \"{TOKEN}\"\nallow_ips = []"),
            "allow_ips is empty",
        ),
        (
            &format!("token = \"{TOKEN}\"\nallow_ips = [\"10.0.0.0/40\"]"),
            "allow_ips: bad address or CIDR \"10.0.0.0/40\"",
        ),
        (
            &format!(
                "token = \"{TOKEN}\"\nallow_ips = [\"10.0.0.0/8\"]\ntrusted_proxies = [\"proxy\"]"
            ),
            "trusted_proxies: bad address or CIDR \"proxy\"",
        ),
        (
            &format!("token = \"{TOKEN}\"\ntrusted_proxies = [\"10.0.0.1\"]"),
            "trusted_proxies has no effect without allow_ips",
        ),
        (&format!("token = \"{TOKEN}\"\nallow_ip = []"), "allow_ip"),
    ];
    for (toml_text, wanted) in cases {
        let err = open(toml_text).err().expect("door refused");
        assert!(
            err.starts_with("sources.DockerHub.doors.acme: ") && err.contains(wanted),
            "{toml_text:?}: {err}"
        );
        assert!(!err.contains("s3cr3t"), "{err}");
    }
}

#[test]
fn described_door_hides_the_token() {
    let (_, door) = door("allow_ips = [\"10.0.0.0/8\"]");
    assert_eq!(door.described["token"], "set");
    assert_eq!(door.described["allow_ips"][0], "10.0.0.0/8");
    assert!(!door.described.to_string().contains(TOKEN));
}

#[tokio::test]
async fn group_comes_from_the_mapping_on_the_repository_name() {
    let (source, door) = door(
        r#"default_group = "images"
        [[groups]]
        group = "widgets"
        repositories = ["widg*"]"#,
    );
    let headers = json_headers();
    let query = format!("token={TOKEN}");
    let received = source
        .receive(&request(&headers, Some(&query)), &door)
        .await
        .expect("accepted");
    assert_eq!(received.notifications[0].group, "widgets");
    let (source, door) = self::door("default_group = \"images\"");
    let received = source
        .receive(&request(&headers, Some(&query)), &door)
        .await
        .expect("accepted");
    assert_eq!(received.notifications[0].group, "images");
    assert_eq!(received.notifications[0].project, "acme");
}

/// Fuzzing regression: a lone UTF-16 surrogate escape passed the raw-JSON
/// check and was published as a message serde_json consumers cannot parse.
#[tokio::test]
async fn a_lone_surrogate_escape_is_400() {
    let (source, door) = door("");
    let headers = json_headers();
    let query = format!("token={TOKEN}");
    let body = br#"{"push_data":{"pusher":"octo\ud800cat"},"repository":{"repo_name":"acme/widgets","description":"\ud800x"}}"#;
    let request = Request {
        headers: &headers,
        body,
        query: Some(&query),
        peer: None,
    };
    let refused = source.receive(&request, &door).await.unwrap_err();
    assert!(
        matches!(&refused, Rejection::Malformed(m) if m.contains("surrogate") || m.contains("escape")),
        "{refused:?}"
    );
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
}

/// Fuzzing regression: a number out of range (`1e999`) passed the raw-JSON
/// check and was published as a message serde_json consumers cannot parse.
#[tokio::test]
async fn a_number_out_of_range_is_400() {
    let (source, door) = door("");
    let headers = json_headers();
    let query = format!("token={TOKEN}");
    let body = br#"{"push_data":{"pushed_at":176401e999,"pusher":"octocat"},"repository":{"repo_name":"acme/widgets"}}"#;
    let request = Request {
        headers: &headers,
        body,
        query: Some(&query),
        peer: None,
    };
    let refused = source.receive(&request, &door).await.unwrap_err();
    assert!(
        matches!(&refused, Rejection::Malformed(m) if m.contains("number out of range")),
        "{refused:?}"
    );
}

/// Fuzzing leftover: serde also fills a nested struct from an array, by
/// position, so `"repository":["acme/widgets"]` was taken as a push to it.
#[tokio::test]
async fn a_nested_array_in_place_of_an_object_is_400() {
    let (source, door) = door("");
    let headers = json_headers();
    let query = format!("token={TOKEN}");
    for body in [
        r#"{"push_data":["octocat","1.2.0"],"repository":{"repo_name":"acme/widgets"}}"#,
        r#"{"push_data":{},"repository":["acme/widgets"]}"#,
    ] {
        let request = Request {
            headers: &headers,
            body: body.as_bytes(),
            query: Some(&query),
            peer: None,
        };
        let refused = source.receive(&request, &door).await.unwrap_err();
        assert!(
            matches!(&refused, Rejection::Malformed(m) if m.contains("invalid type: sequence, expected struct")),
            "{body}: {refused:?}"
        );
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    }
}

#[tokio::test]
async fn insecure_no_token_accepts_requests_without_token_but_keeps_the_allow_list() {
    let err = open(&format!("token = \"{TOKEN}\"\ninsecure_no_token = true"))
        .map(|_| ())
        .unwrap_err();
    assert!(err.contains("contradict"), "{err}");
    let (source, door) = open("insecure_no_token = true").expect("opens");
    let headers = json_headers();
    assert_eq!(
        status(source.as_ref(), &door, &request(&headers, None)).await,
        StatusCode::OK
    );
    assert_eq!(door.described["insecure_no_token"], true);
    let (source, door) =
        open("insecure_no_token = true\nallow_ips = [\"192.0.2.0/24\"]").expect("opens");
    let outside = Request {
        peer: Some("198.51.100.7".parse().expect("ip")),
        ..request(&headers, None)
    };
    assert_eq!(
        status(source.as_ref(), &door, &outside).await,
        StatusCode::FORBIDDEN
    );
}
