//! Wiring only. SMS delivery arrives in a later version; until then each record is parsed and refused
//! with a clear error (see `notifier_runtime::unimplemented`), never acknowledged as done.

use notifier_domain::messages::DeliveryMessage;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    notifier_runtime::telemetry::init_tracing();
    notifier_runtime::unimplemented::run_unimplemented_stage::<DeliveryMessage>("SMS delivery").await
}
