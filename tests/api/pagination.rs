//! Keyset pagination: walking a connection forwards or backwards visits every row once.

use serde_json::Value;

use crate::helpers::*;

async fn walk(app: &TestApp, token: &str, forward: bool) -> (Vec<i64>, i64) {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut total;
    loop {
        let args = match (&cursor, forward) {
            (None, true) => "first: 7".to_owned(),
            (Some(c), true) => format!("first: 7, after: \"{c}\""),
            (None, false) => "last: 7".to_owned(),
            (Some(c), false) => format!("last: 7, before: \"{c}\""),
        };
        let data = app
            .data(
                &format!("{{ customers({args}) {{ totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} edges {{ node {{ id }} }} }} }}"),
                Some(token),
            )
            .await;
        let conn = &data["customers"];
        total = conn["totalCount"].as_i64().unwrap();
        let mut ids: Vec<i64> = nodes(conn).iter().map(|n| row(&n["id"])).collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ascending within a page"
        );
        let info = &conn["pageInfo"];
        if forward {
            seen.append(&mut ids);
            if info["hasNextPage"] != true {
                break;
            }
            cursor = info["endCursor"].as_str().map(str::to_owned);
        } else {
            ids.append(&mut seen);
            seen = ids;
            if info["hasPreviousPage"] != true {
                break;
            }
            cursor = info["startCursor"].as_str().map(str::to_owned);
        }
        assert!(seen.len() <= total as usize, "no endless loop");
    }
    (seen, total)
}

both_backends! {
    async fn forward_and_backward_walks_visit_every_row_once(backend) {
        let app = TestApp::seeded(backend).await;
        let token = app.employee();
        let (forward, total) = walk(&app, &token, true).await;
        assert_eq!(forward.len() as i64, total);
        assert!(forward.windows(2).all(|w| w[0] < w[1]));
        let (backward, _) = walk(&app, &token, false).await;
        assert_eq!(forward, backward);
    }

    async fn an_empty_database_gives_an_empty_page(backend) {
        let app = TestApp::empty(backend).await;
        let data = app.data("{ products { totalCount edges { cursor } pageInfo { hasNextPage hasPreviousPage endCursor } } }", None).await;
        assert_eq!(data["products"]["totalCount"], 0);
        assert_eq!(data["products"]["pageInfo"]["hasNextPage"], false);
        assert_eq!(data["products"]["pageInfo"]["endCursor"], Value::Null);
    }
}
