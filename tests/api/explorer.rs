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
