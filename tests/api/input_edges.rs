//! Input at the edges of its types: dates near the calendar's ends (chrono accepts years up to
//! ±262,143, where one more week overflows) are refused as bad input on the argument that
//! carries them, never a crashed task or a closed connection.

use serde_json::Value;

use crate::helpers::*;

/// The code and the `field` extension of a body's first error.
fn refusal(body: &Value) -> (&str, &str) {
    let extensions = &body["errors"][0]["extensions"];
    (
        extensions["code"].as_str().unwrap_or("<none>"),
        extensions["field"].as_str().unwrap_or("<none>"),
    )
}

both_backends! {
    async fn dates_at_the_calendars_ends_are_bad_input_on_their_argument(backend) {
        let app = TestApp::seeded(backend).await;
        let employee = app.employee();
        for period in ["WEEK", "MONTH"] {
            for from in ["+262142-12-31", "-262143-01-01", "+10000-01-01", "0000-12-31"] {
                for field in ["moraleSummary", "departmentFeedbackSummary"] {
                    let query = format!(r#"{{ {field}(period: {period}, from: "{from}", count: 60) {{ label }} }}"#);
                    let body = app.gql(&query, Some(&employee)).await;
                    assert_eq!(refusal(&body), ("BAD_USER_INPUT", "from"), "{query}: {body}");
                }
            }
        }
        // The last supported years still answer (empty buckets), up to the calendar's end.
        let body = app.gql(r#"{ moraleSummary(period: MONTH, from: "9994-12-01", count: 60) { label } }"#, Some(&employee)).await;
        assert!(body["errors"].is_null(), "{body}");
        let body = app.gql(r#"{ moraleSummary(period: WEEK, from: "9999-12-31") { label } }"#, Some(&employee)).await;
        assert!(body["errors"].is_null(), "{body}");

        for (from, to, field) in [
            ("+262142-01-01T00:00:00Z", "+262142-12-31T00:00:00Z", "range.from"),
            ("2026-01-01T00:00:00Z", "+262142-12-31T00:00:00Z", "range.to"),
            ("-262143-01-02T00:00:00Z", "-262142-01-01T00:00:00Z", "range.from"),
        ] {
            let query = format!(r#"{{ externalSatisfaction(range: {{from: "{from}", to: "{to}"}}) {{ group }} }}"#);
            let body = app.gql(&query, Some(&employee)).await;
            assert_eq!(refusal(&body), ("BAD_USER_INPUT", field), "{query}: {body}");
        }
    }
}
