//! The explorer is served entirely by the gateway: `/` leads to it, its page loads nothing but
//! the gateway's own files under a strict Content-Security-Policy, and in dev mode — only — it
//! is offered the demo's people with working tokens. (`tests/browser/` drives it in Chromium.)

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use serde_json::Value;

use crate::helpers::*;

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

/// Every `src="…"` and `href="…"` of the page.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (start, _) in html.match_indices(attribute) {
            let rest = &html[start + attribute.len()..];
            found.push(rest[..rest.find('"').unwrap()].to_owned());
        }
    }
    found
}

both_backends! {
    async fn the_root_leads_to_the_explorer_page_under_a_strict_policy(backend) {
        let app = TestApp::empty(backend).await;
        let (status, headers, _) = app.send(get("/")).await;
        assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(headers["location"], "/graphql");

        let (status, headers, body) = app.send(get("/graphql")).await;
        assert_eq!(status, StatusCode::OK);
        let csp = headers["content-security-policy"].to_str().unwrap();
        for directive in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'"] {
            assert!(csp.contains(directive), "{directive} in {csp}");
        }
        assert!(!csp.contains("unsafe") && !csp.contains("http"), "{csp}");
        let html = body.as_str().unwrap();
        // No inline script or style for the policy to refuse.
        assert_eq!(html.matches("<script").count(), html.matches("<script src=\"/graphiql/").count(), "{html}");
        assert!(!html.contains("<style") && !html.contains("style="), "{html}");

        let files = references(html);
        assert!(files.len() >= 6, "{files:?}");
        for file in files {
            assert!(file.starts_with("/graphiql/"), "{file} is not the gateway's own");
            let (status, headers, _) = app.send(get(&file)).await;
            assert_eq!(status, StatusCode::OK, "{file}");
            let kind = headers["content-type"].to_str().unwrap();
            let expected = if file.ends_with(".js") { "text/javascript" } else if file.ends_with(".css") { "text/css" } else { "image/svg+xml" };
            assert!(kind.starts_with(expected), "{file}: {kind}");
            assert_eq!(headers["x-content-type-options"], "nosniff");
        }
        let (status, _, body) = app.send(get("/graphiql/vendor/nothing.js")).await;
        assert_eq!((status, first_code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
        let (status, _, license) = app.send(get("/graphiql/vendor/LICENSE.graphiql")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(license.as_str().unwrap().contains("MIT License"));
    }

    async fn dev_mode_offers_the_demo_people_with_tokens_that_work(backend) {
        let app = TestApp::dev_mode(backend).await;
        let (status, headers, body) = app.send(get("/graphiql/identities")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(body["mode"], "dev");
        assert_eq!(body["title"], "Northwind Clinics demo");
        let identities = body["identities"].as_array().unwrap();
        let names: Vec<&str> = identities.iter().map(|i| i["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["anonymous", "Olivia Hart", "Noah Berg", "Maria Lopez"]);
        assert_eq!(identities[0]["authorization"], Value::Null);
        for identity in &identities[1..] {
            let token = identity["authorization"].as_str().unwrap().strip_prefix("Bearer ").unwrap();
            let data = app.data("{ viewer { role customer { name } } }", Some(token)).await;
            assert_eq!(data["viewer"]["customer"]["name"], identity["name"]);
            assert_eq!(data["viewer"]["role"].as_str().unwrap().to_lowercase(), identity["role"].as_str().unwrap());
        }
    }

    async fn with_a_key_or_off_loopback_the_explorer_is_offered_no_tokens(backend) {
        let production = TestApp::seeded(backend).await;
        let public = TestApp::seeded_with(backend, |c| {
            c.jwt_secret = None;
            c.listen_addr = "0.0.0.0:8000".parse().unwrap();
        })
        .await;
        for app in [&production, &public] {
            let (status, _, body) = app.send(get("/graphiql/identities")).await;
            assert_eq!(status, StatusCode::OK);
            assert!(!body.to_string().contains("Bearer ey"), "{body}");
            let identities = body["identities"].as_array().unwrap();
            assert_eq!(identities.len(), 1, "only anonymous: {body}");
        }
    }
}

fn with_headers(path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Body::empty()).unwrap()
}

both_backends! {
    async fn identities_go_to_the_explorer_page_only_and_dev_mode_answers_loopback_hosts_only(backend) {
        let app = TestApp::dev_mode(backend).await;
        let host = ("host", "127.0.0.1:8000");
        for foreign in [
            vec![host, ("origin", "https://evil.example")],
            vec![host, ("sec-fetch-site", "cross-site")],
            vec![host, ("sec-fetch-site", "same-site"), ("origin", "http://127.0.0.1:3000")],
        ] {
            let (status, headers, body) = app.send(with_headers("/graphiql/identities", &foreign)).await;
            assert_eq!((status, first_code(&body)), (StatusCode::FORBIDDEN, "FORBIDDEN"), "{foreign:?}: {body}");
            assert!(headers.get("access-control-allow-origin").is_none(), "{headers:?}");
            assert!(!body.to_string().contains("Bearer"), "{body}");
        }
        // No preflight invites another origin to send it an Authorization header.
        let preflight = Request::options("/graphiql/identities").header("host", "127.0.0.1:8000")
            .header("origin", "https://evil.example").header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization").body(Body::empty()).unwrap();
        let (_, headers, _) = app.send(preflight).await;
        assert!(headers.keys().all(|k| !k.as_str().starts_with("access-control-")), "{headers:?}");
        // The page itself gets its people, still with no CORS headers.
        let page = [host, ("origin", "http://127.0.0.1:8000"), ("sec-fetch-site", "same-origin")];
        let (status, headers, body) = app.send(with_headers("/graphiql/identities", &page)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.to_string().contains("Bearer"), "{body}");
        assert!(headers.get("access-control-allow-origin").is_none(), "{headers:?}");

        // Dev mode: a name that is not loopback (a DNS-rebinding page's) is refused everywhere.
        for path in ["/graphiql/identities", "/graphql", "/health"] {
            let (status, _, body) = app.send(with_headers(path, &[("host", "evil.example")])).await;
            assert_eq!((status, first_code(&body)), (StatusCode::FORBIDDEN, "FORBIDDEN"), "{path}: {body}");
        }
        for loopback in ["localhost:8000", "127.0.0.1", "[::1]:8000"] {
            let (status, _, _) = app.send(with_headers("/health", &[("host", loopback)])).await;
            assert_eq!(status, StatusCode::OK, "{loopback}");
        }
        // With a key configured the gateway serves whatever name its proxy gives it.
        let production = TestApp::seeded(backend).await;
        let (status, _, _) = production.send(with_headers("/health", &[("host", "evil.example")])).await;
        assert_eq!(status, StatusCode::OK);
    }
}
