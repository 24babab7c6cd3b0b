//! The API's contract at its edges: validation problems, size and media-type limits, and strict
//! tenant isolation (another tenant's ids are 404 on every route).

use notifier_e2e::{Stack, assert_problem, call, error_fields, reply};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn publish_errors_are_problem_documents_with_the_right_status() {
    let stack = Stack::connect().await;
    let tenant = stack.create_tenant("e2e publish errors").await;
    let post = |body: Vec<u8>, content_type: &'static str| {
        stack
            .authed(&tenant, Method::POST, "/v1/events")
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let not_json = reply(post(b"{nope".to_vec(), "application/json").await.unwrap()).await;
    assert_problem(&not_json, 400);
    let not_object = reply(post(b"[1,2,3]".to_vec(), "application/json").await.unwrap()).await;
    assert_problem(&not_object, 400);

    let invalid = reply(
        post(br#"{"type": "bad type", "data": 3}"#.to_vec(), "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&invalid, 422);
    let fields = error_fields(&invalid);
    assert_eq!(fields, ["type", "data"]);
    assert!(invalid.body["errors"][0]["message"].is_string());

    let form = reply(
        post(b"type=a".to_vec(), "application/x-www-form-urlencoded")
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&form, 415);

    let mut big = br#"{"type": "big.one", "data": {"blob": ""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', 256 * 1024));
    big.extend_from_slice(br#""}}"#);
    let too_large = reply(post(big, "application/json").await.unwrap()).await;
    assert_problem(&too_large, 413);

    let bad_key = call(
        stack
            .authed(&tenant, Method::POST, "/v1/events")
            .header("idempotency-key", "k".repeat(300))
            .json(&json!({"type": "a.b", "data": {}})),
    )
    .await;
    assert_problem(&bad_key, 422);
}

#[tokio::test]
async fn bodies_up_to_the_documented_limit_and_cloudevents_are_accepted() {
    let stack = Stack::connect().await;
    let tenant = stack.create_tenant("e2e limits").await;
    // Just under 256 KiB in all.
    let blob = "y".repeat(256 * 1024 - 100);
    let near_limit = stack
        .publish(&tenant, &json!({"type": "big.ok", "data": {"blob": blob}}), None)
        .await;
    assert_eq!(near_limit.status, 202, "{}", near_limit.body);

    let cloud_event = json!({
        "specversion": "1.0", "type": "user.registered", "source": "/accounts", "id": "ce-1",
        "datacontenttype": "application/json", "data": {"user": "u1"}
    });
    let accepted = call(
        stack
            .authed(&tenant, Method::POST, "/v1/events")
            .header("content-type", "application/cloudevents+json")
            .body(cloud_event.to_string()),
    )
    .await;
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    let event = stack
        .get_event(&tenant, accepted.body["id"].as_str().unwrap())
        .await;
    assert_eq!(event.body["type"], "user.registered");
    assert_eq!(event.body["source"], "/accounts");
    assert_eq!(event.body["data"], json!({"user": "u1"}));
}

#[tokio::test]
async fn subscription_validation_errors_name_each_field() {
    let stack = Stack::connect().await;
    let tenant = stack.create_tenant("e2e subscription errors").await;
    let create = |body: serde_json::Value| {
        stack
            .authed(&tenant, Method::POST, "/v1/subscriptions")
            .json(&body)
            .send()
    };

    let missing = reply(create(json!({})).await.unwrap()).await;
    assert_problem(&missing, 422);
    assert_eq!(missing.body["errors"].as_array().unwrap().len(), 3);

    let bad = reply(
        create(
            json!({"event_types": ["ok.*", "no good"], "channel": "webhook", "target": {"url": "ftp://x"}}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_problem(&bad, 422);
    let fields = error_fields(&bad);
    assert_eq!(fields, ["event_types[1]", "target.url"]);

    let not_json = call(
        stack
            .authed(&tenant, Method::POST, "/v1/subscriptions")
            .header("content-type", "application/json")
            .body("{"),
    )
    .await;
    assert_problem(&not_json, 400);
}

#[tokio::test]
async fn subscriptions_round_trip_and_secrets_are_shown_only_at_creation_and_rotation() {
    let stack = Stack::connect().await;
    let tenant = stack.create_tenant("e2e subscription lifecycle").await;
    let created = stack
        .subscribe_webhook(&tenant, "https://hooks.example.com/in", &["order.*"])
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["enabled"], true);
    assert_eq!(created["channel"], "webhook");

    let fetched = call(stack.authed(&tenant, Method::GET, &format!("/v1/subscriptions/{id}"))).await;
    assert_eq!(fetched.status, 200);
    assert!(
        fetched.body.get("secret").is_none(),
        "GET must not reveal the secret: {}",
        fetched.body
    );
    assert_eq!(fetched.body["event_types"], json!(["order.*"]));

    let listed = call(stack.authed(&tenant, Method::GET, "/v1/subscriptions")).await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
    assert!(listed.body["data"][0].get("secret").is_none());

    let patched = call(
        stack
            .authed(&tenant, Method::PATCH, &format!("/v1/subscriptions/{id}"))
            .json(&json!({"event_types": ["order.paid", "user.*"], "description": "orders and users"})),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["event_types"], json!(["order.paid", "user.*"]));
    assert_eq!(patched.body["description"], "orders and users");

    let rotated = call(stack.authed(
        &tenant,
        Method::POST,
        &format!("/v1/subscriptions/{id}/rotate-secret"),
    ))
    .await;
    assert_eq!(rotated.status, 200);
    let new_secret = rotated.body["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_"));
    assert_ne!(new_secret, created["secret"].as_str().unwrap());

    let deleted = stack
        .authed(&tenant, Method::DELETE, &format!("/v1/subscriptions/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let gone = call(stack.authed(&tenant, Method::GET, &format!("/v1/subscriptions/{id}"))).await;
    assert_problem(&gone, 404);
}

#[tokio::test]
async fn another_tenants_ids_are_not_found_on_every_route() {
    let stack = Stack::connect().await;
    let owner = stack.create_tenant("e2e owner").await;
    let intruder = stack.create_tenant("e2e intruder").await;
    let subscription = stack
        .subscribe_webhook(&owner, "https://hooks.example.com/owner", &["*"])
        .await;
    let sub_id = subscription["id"].as_str().unwrap();
    let published = stack
        .publish(&owner, &json!({"type": "secret.thing", "data": {"x": 1}}), None)
        .await;
    let event_id = published.body["id"].as_str().unwrap();

    let attempts = [
        (Method::GET, format!("/v1/events/{event_id}"), None),
        (Method::GET, format!("/v1/subscriptions/{sub_id}"), None),
        (
            Method::PATCH,
            format!("/v1/subscriptions/{sub_id}"),
            Some(json!({"enabled": false})),
        ),
        (Method::DELETE, format!("/v1/subscriptions/{sub_id}"), None),
        (
            Method::POST,
            format!("/v1/subscriptions/{sub_id}/rotate-secret"),
            None,
        ),
    ];
    for (method, path, body) in attempts {
        let mut request = stack.authed(&intruder, method.clone(), &path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = call(request).await;
        assert_problem(&answer, 404);
        assert!(
            !answer.body.to_string().contains(&owner.tenant_id),
            "{method} {path} leaked the owner"
        );
    }
    let listed = call(stack.authed(&intruder, Method::GET, "/v1/subscriptions")).await;
    assert_eq!(listed.body["data"], json!([]));

    // The owner's subscription is untouched.
    let still = call(stack.authed(&owner, Method::GET, &format!("/v1/subscriptions/{sub_id}"))).await;
    assert_eq!(still.status, 200);
    assert_eq!(still.body["enabled"], true);
}
