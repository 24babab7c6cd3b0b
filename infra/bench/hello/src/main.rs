//! A minimal `lambda_runtime` function, built with the same release profile as the real ones:
//! `make bench` compares every function's init time with this one's, measured in the same run.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    run(service_fn(|event: LambdaEvent<Value>| async move {
        Ok::<_, Error>(event.payload)
    }))
    .await
}
