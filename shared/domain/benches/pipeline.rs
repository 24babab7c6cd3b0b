//! CPU per event of the pure work each stage does, for `make bench`:
//! - router: parse the routing message, match and fan out to N subscriptions, serialise each
//!   delivery message as it goes on the queue (N = 1, 10, 100, every one matching);
//! - webhook sender: build the 2 KB webhook body and sign it;
//! - ingest: parse and validate a publish body, fingerprint it and derive its id.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use notifier_domain::event::parse_published_event;
use notifier_domain::idempotency::{event_id_for, payload_fingerprint};
use notifier_domain::ids::TenantId;
use notifier_domain::messages::{Event, RoutingEnvelope, RoutingMessage};
use notifier_domain::routing::fan_out;
use notifier_domain::signing::{decode_secret, sign, webhook_body};
use notifier_domain::subscription::{Channel, Subscription};
use serde_json::{Value, json};

/// An order event's data, padded with line items to about `bytes` of JSON.
fn order_data(bytes: usize) -> Value {
    let mut items = Vec::new();
    let mut data = json!({"order_id": "ord_42", "amount": 12_345, "currency": "EUR",
        "customer": {"id": "cus_8842", "email": "ann@example.com"}, "items": []});
    while data.to_string().len() < bytes {
        items.push(json!({"sku": format!("SKU-{:05}", items.len()), "name": "Organic cotton t-shirt", "quantity": 2}));
        data["items"] = Value::Array(items.clone());
    }
    data
}

fn event(bytes: usize) -> Event {
    Event {
        id: "evt_5k2q4yq7m3xj0h8c1n6v9b2r4t".into(),
        event_type: "order.paid".into(),
        source: Some("shop".into()),
        subject: Some("ord_42".into()),
        time: None,
        received_at: "2026-12-03T10:00:00Z".into(),
        data: order_data(bytes),
    }
}

fn subscriptions(count: usize) -> Vec<Subscription> {
    let patterns = ["order.paid", "order.*", "*"];
    let channels = [Channel::Webhook, Channel::Email, Channel::Sms, Channel::Push];
    (0..count)
        .map(|i| Subscription {
            subscription_id: format!("sub_{i:026}"),
            event_types: vec!["user.created".into(), patterns[i % patterns.len()].into()],
            channel: channels[i % channels.len()],
            target: json!({"url": "https://hooks.example.com/in"}),
            template: None,
            description: None,
            enabled: true,
            secret: None,
            created_at: "2026-12-01T00:00:00Z".into(),
            updated_at: "2026-12-01T00:00:00Z".into(),
        })
        .collect()
}

fn router(c: &mut Criterion) {
    let tenant = TenantId("ten_bench".into());
    let body = serde_json::to_string(&RoutingMessage::V1 {
        tenant_id: tenant.clone(),
        event: event(1024),
    })
    .unwrap();
    let mut group = c.benchmark_group("router_fan_out");
    for count in [1, 10, 100] {
        let subscriptions = subscriptions(count);
        group.bench_with_input(
            BenchmarkId::from_parameter(count),
            &subscriptions,
            |b, subscriptions| {
                b.iter(|| {
                    let (envelope, event) = RoutingEnvelope::parse(Some(black_box(&body))).unwrap();
                    let deliveries = fan_out(&envelope, &event.event_type, subscriptions);
                    assert_eq!(deliveries.len(), count);
                    black_box(deliveries)
                })
            },
        );
    }
    group.finish();
}

fn webhook(c: &mut Criterion) {
    let event = event(2048);
    let key = decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    c.bench_function("webhook_sign_serialise_2kb", |b| {
        b.iter(|| {
            let body = webhook_body(black_box(&event));
            black_box(sign(&key, &event.id, 1_764_756_000, &body))
        })
    });
}

fn ingest(c: &mut Criterion) {
    let tenant = TenantId("ten_bench".into());
    let plain = json!({"type": "order.paid", "subject": "ord_42", "data": order_data(1024)}).to_string();
    let cloudevent =
        json!({"specversion": "1.0", "id": "order-42-paid", "source": "/shop", "type": "order.paid",
        "time": "2026-12-03T10:00:00Z", "datacontenttype": "application/json", "data": order_data(1024)})
        .to_string();
    for (name, body, cloudevents) in [
        ("ingest_validate_hash", &plain, false),
        ("ingest_validate_hash_cloudevents", &cloudevent, true),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| {
                let published = parse_published_event(black_box(body.as_bytes()), cloudevents).unwrap();
                let fingerprint = payload_fingerprint(&published);
                let id = event_id_for(
                    &tenant,
                    Some(published.client_id.as_deref().unwrap_or("order-42")),
                );
                black_box((fingerprint, id))
            })
        });
    }
}

criterion_group!(benches, router, webhook, ingest);
criterion_main!(benches);
