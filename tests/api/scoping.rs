//! Row scoping: a client reads only its own rows on every path; someone else's record looks
//! exactly like a record that does not exist; anonymous callers see only the catalogue.

use serde_json::Value;

use crate::helpers::*;

both_backends! {
    async fn client_lists_contain_only_its_own_rows(backend) {
        let app = TestApp::seeded(backend).await;
        let me = gid(NodeKind::Customer, app.ids().client);
        let data = app.data(
            "{ customers(first: 100) { totalCount edges { node { id } } }
               interactions(first: 100) { totalCount edges { node { id customer { id } } } }
               purchases(first: 100) { totalCount edges { node { customer { id } } } } }",
            Some(&app.client()),
        ).await;
        assert_eq!(data["customers"]["totalCount"], 1);
        assert_eq!(nodes(&data["customers"])[0]["id"], me.as_str());
        let interactions = nodes(&data["interactions"]);
        assert!(!interactions.is_empty(), "the demo client has interactions");
        assert_eq!(data["interactions"]["totalCount"].as_u64().unwrap() as usize, interactions.len());
        assert!(interactions.iter().all(|i| i["customer"]["id"] == me.as_str()));
        assert!(nodes(&data["purchases"]).iter().all(|p| p["customer"]["id"] == me.as_str()));
    }

    async fn someone_elses_record_is_indistinguishable_from_a_missing_one(backend) {
        let app = TestApp::seeded(backend).await;
        let client = app.client();
        let other = app.ids().employee;
        let theirs = app.gql(&format!("{{ customer(id: \"{other}\") {{ id name }} }}"), Some(&client)).await;
        let missing = app.gql("{ customer(id: \"999999\") { id name } }", Some(&client)).await;
        assert_eq!(theirs, missing);
        assert_eq!(theirs["data"]["customer"], Value::Null);

        let all = app
            .data("{ interactions(first: 20) { edges { node { id customer { id } } } } }", Some(&app.employee()))
            .await;
        let foreign = nodes(&all["interactions"])
            .into_iter()
            .find(|i| i["customer"]["id"] != gid(NodeKind::Customer, app.ids().client).as_str())
            .unwrap();
        let id = foreign["id"].as_str().unwrap().to_owned();
        let theirs = app.gql(&format!("{{ interaction(id: \"{id}\") {{ id }} }}"), Some(&client)).await;
        let missing = app.gql("{ interaction(id: \"999999\") { id } }", Some(&client)).await;
        assert_eq!(theirs, missing);
        // Filtering by another customer's id yields nothing rather than their rows.
        let data = app.data("{ interactions(filter: {customerId: \"1\"}) { totalCount } }", Some(&client)).await;
        assert_eq!(data["interactions"]["totalCount"], 0);
    }

    async fn nested_paths_stay_inside_the_clients_scope(backend) {
        let app = TestApp::seeded(backend).await;
        let me = gid(NodeKind::Customer, app.ids().client);
        let data = app.data(
            "{ viewer { customer { interactions(first: 50) { nodes { customer { id } department { name servesExternal } } } purchases { nodes { customer { id } product { name } } } } } }",
            Some(&app.client()),
        ).await;
        let customer = &data["viewer"]["customer"];
        for interaction in customer["interactions"]["nodes"].as_array().unwrap() {
            assert_eq!(interaction["customer"]["id"], me.as_str());
            // Departments the client can see are customer-facing (or hidden as null).
            let dept = &interaction["department"];
            assert!(dept.is_null() || dept["servesExternal"] == true, "{dept}");
        }
        for purchase in customer["purchases"]["nodes"].as_array().unwrap() {
            assert_eq!(purchase["customer"]["id"], me.as_str());
        }
        let departments = app.data("{ departments(first: 100) { edges { node { servesExternal } } } }", Some(&app.client())).await;
        let departments = nodes(&departments["departments"]);
        assert!(!departments.is_empty());
        assert!(departments.iter().all(|d| d["servesExternal"] == true));
    }

    async fn employees_see_every_customer_and_the_internal_web(backend) {
        let app = TestApp::seeded(backend).await;
        let data = app.data(
            "{ customers { totalCount } internal: customers(filter: {kind: INTERNAL}) { totalCount }
               departments(first: 100) { edges { node { name members { totalCount nodes { name } } serviceAgreements { service provider { name } consumer { name } } } } }
               knowledgeArticles(first: 100) { totalCount } }",
            Some(&app.employee()),
        ).await;
        assert!(data["customers"]["totalCount"].as_i64().unwrap() >= 65);
        assert!(data["internal"]["totalCount"].as_i64().unwrap() >= 25);
        let it = nodes(&data["departments"]).into_iter().find(|d| d["name"] == "IT Support").unwrap();
        assert!(it["members"]["nodes"].as_array().unwrap().len() >= 3);
        assert_eq!(it["members"]["totalCount"].as_u64().unwrap() as usize, it["members"]["nodes"].as_array().unwrap().len());
        assert!(it["serviceAgreements"].as_array().unwrap().iter().any(|a| a["service"] == "Phone system repair"));
        assert_eq!(data["knowledgeArticles"]["totalCount"], 12);
    }

    async fn anonymous_callers_see_only_public_articles_and_products_on_sale(backend) {
        let app = TestApp::seeded(backend).await;
        let anon = app.data("{ knowledgeArticles(first: 100) { totalCount } products(first: 100) { totalCount edges { node { active } } } }", None).await;
        assert_eq!(anon["knowledgeArticles"]["totalCount"], 5);
        assert!(nodes(&anon["products"]).iter().all(|p| p["active"] == true));
        let staff = app.data("{ products(first: 100) { totalCount } }", Some(&app.employee())).await;
        assert!(staff["products"]["totalCount"].as_i64() > anon["products"]["totalCount"].as_i64());
        for root in ["customers", "interactions", "departments", "purchases"] {
            let body = app.gql(&format!("{{ {root} {{ totalCount }} }}"), None).await;
            assert_eq!(first_code(&body), "UNAUTHENTICATED", "{root}: {body}");
        }
        let article = app.data("{ knowledgeArticles(first: 1) { edges { node { department { name } } } } }", None).await;
        assert_eq!(nodes(&article["knowledgeArticles"])[0]["department"], Value::Null);
    }

    async fn an_internal_article_looks_missing_to_a_client(backend) {
        let app = TestApp::seeded(backend).await;
        let all = app.data("{ knowledgeArticles(first: 100) { edges { node { id audience } } } }", Some(&app.employee())).await;
        let internal = nodes(&all["knowledgeArticles"]).into_iter().find(|a| a["audience"] == "INTERNAL").unwrap();
        let id = internal["id"].as_str().unwrap();
        let theirs = app.gql(&format!("{{ knowledgeArticle(id: \"{id}\") {{ title }} }}"), Some(&app.client())).await;
        assert_eq!(theirs["data"]["knowledgeArticle"], Value::Null);
        assert!(theirs.get("errors").is_none());
    }
}
