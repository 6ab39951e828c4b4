//! The explorer at `GET /graphql` (and `/`, which redirects there): GraphiQL served entirely by
//! the gateway. Its files are embedded in the binary — a vendored, licensed build of GraphiQL
//! and React (`assets/graphiql/vendor/`) plus the explorer's own page, script and styles — so it
//! works offline and under a `Content-Security-Policy` that allows nothing but this origin (no
//! inline script or style, no CDN).
//!
//! In dev mode `/graphiql/identities` offers the demo company's people with fresh tokens, for the
//! page's "Explore as" picker and side-by-side preview; with a key configured it offers none.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde_json::{Value, json};

use crate::{app::AppState, auth::TokenIssuer, seed::DemoPerson};

/// The page's policy: scripts, styles, connections only from this origin; fonts and the
/// GraphiQL icons may also be `data:` URLs inside the vendored stylesheet.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    /// Vendored files carry their version in their name, so browsers may keep them.
    immutable: bool,
}

macro_rules! asset {
    ($path:literal, $content_type:literal, $immutable:literal) => {
        Asset {
            path: $path,
            content_type: $content_type,
            body: include_bytes!(concat!("../../assets/graphiql/", $path)),
            immutable: $immutable,
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!("explorer.js", "text/javascript; charset=utf-8", false),
    asset!("explorer.css", "text/css; charset=utf-8", false),
    asset!("favicon.svg", "image/svg+xml", false),
    asset!(
        "vendor/graphiql-3.8.3.min.js",
        "text/javascript; charset=utf-8",
        true
    ),
    asset!(
        "vendor/graphiql-3.8.3.min.css",
        "text/css; charset=utf-8",
        true
    ),
    asset!(
        "vendor/react-18.3.1.production.min.js",
        "text/javascript; charset=utf-8",
        true
    ),
    asset!(
        "vendor/react-dom-18.3.1.production.min.js",
        "text/javascript; charset=utf-8",
        true
    ),
    asset!("vendor/LICENSE.graphiql", "text/plain; charset=utf-8", true),
    asset!("vendor/LICENSE.react", "text/plain; charset=utf-8", true),
    asset!(
        "vendor/LICENSE.react-dom",
        "text/plain; charset=utf-8",
        true
    ),
];

const PAGE: &str = include_str!("../../assets/graphiql/index.html");

/// The explorer page.
pub fn page() -> Response {
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response();
    secure(&mut response, "no-cache");
    response
}

/// `GET /`: the explorer.
pub async fn root() -> Redirect {
    Redirect::temporary("/graphql")
}

/// `GET /graphiql/{*path}`: an embedded file.
pub async fn asset(Path(path): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.path == path) else {
        return super::request_error(
            StatusCode::NOT_FOUND,
            super::Format::Json,
            "NOT_FOUND",
            "no such explorer file",
        );
    };
    let mut response = ([(header::CONTENT_TYPE, asset.content_type)], asset.body).into_response();
    let cache = if asset.immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    secure(&mut response, cache);
    response
}

fn secure(response: &mut Response, cache: &'static str) {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
}

/// The demo company's people, offered to the explorer in dev mode with freshly minted tokens.
pub struct DemoIdentities {
    company: &'static str,
    issuer: TokenIssuer,
    people: [DemoPerson; 3],
}

impl DemoIdentities {
    /// Identities signed by `issuer` (dev mode's own secret) for `people` of `company`.
    pub fn new(company: &'static str, issuer: TokenIssuer, people: [DemoPerson; 3]) -> Self {
        Self {
            company,
            issuer,
            people,
        }
    }
}

/// How long the tokens handed to the explorer live; a reload fetches new ones.
const TOKEN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(12 * 3600);

/// `GET /graphiql/identities`: who the explorer may act as. Tokens only in dev mode, and only
/// to the explorer page itself: a cross-origin request is refused (the route carries no CORS
/// headers, so no other page could read the answer anyway; refusing also keeps the tokens out
/// of responses a browser would merely hide).
pub async fn identities(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !same_origin(&headers) {
        return super::request_error(
            StatusCode::FORBIDDEN,
            super::Format::Json,
            "FORBIDDEN",
            "the explorer's identities are for the explorer page only (same origin)",
        );
    }
    let anonymous = json!({
        "key": "anonymous", "name": "anonymous", "role": null, "authorization": null,
        "about": "No token: the public surface (products, public articles).",
    });
    let body = match state.demo_identities.as_deref() {
        Some(demo) => dev_identities(demo, anonymous),
        None => json!({
            "mode": "production",
            "title": "CRM gateway",
            "note": "Paste your bearer token into Headers as {\"Authorization\": \"Bearer …\"}: \
                     the schema follows it.",
            "identities": [anonymous],
        }),
    };
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Whether a request comes from a page of this origin (or from no page at all, like curl). A
/// browser marks cross-origin fetches with `Sec-Fetch-Site` (`same-site` is another port or
/// subdomain: another origin all the same) and with an `Origin` naming the page's origin,
/// which must then be this very host.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site")
        && !matches!(site.as_bytes(), b"same-origin" | b"none")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (origin.to_str().ok(), host) {
        (Some(origin), Some(host)) => ["http://", "https://"].iter().any(|scheme| {
            origin
                .strip_prefix(scheme)
                .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
        }),
        _ => false,
    }
}

fn dev_identities(demo: &DemoIdentities, anonymous: Value) -> Value {
    let mut identities = vec![anonymous];
    for person in demo.people {
        match demo
            .issuer
            .mint(person.role, person.customer_id, TOKEN_LIFETIME)
        {
            Ok(token) => identities.push(json!({
                "key": person.role.as_claim(),
                "name": person.name,
                "role": person.role.as_claim(),
                "customerId": person.customer_id,
                "about": person.about,
                "authorization": format!("Bearer {token}"),
            })),
            Err(err) => tracing::error!(%err, "cannot mint a demo token for the explorer"),
        }
    }
    json!({
        "mode": "dev",
        "title": format!("{} demo", demo.company),
        "note": "Dev mode: these are the demo's people; a gateway with a key offers none.",
        "identities": identities,
    })
}
