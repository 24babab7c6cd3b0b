//! Wiring only: settings and clients, then the shared provider-sender loop
//! (`notifier_runtime::senders`) around Amazon SES.

use std::sync::Arc;

use notifier_aws::providers::SesEmail;
use notifier_aws::warm;
use notifier_runtime::senders::{SenderSettings, run_provider_sender};

const DEFAULT_SCHEDULE: &str = "5,30,120,600,1800";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    notifier_runtime::telemetry::init_tracing();
    let settings = SenderSettings::from_env("EMAIL_QUEUE_URL", DEFAULT_SCHEDULE)?;
    let sender = notifier_runtime::required_env("SENDER_EMAIL")?;
    let sdk_config = notifier_aws::load_sdk_config().await?;
    let ses = aws_sdk_ses::Client::new(&sdk_config);
    let provider = Arc::new(SesEmail {
        client: ses.clone(),
        sender,
    });
    run_provider_sender(settings, &sdk_config, provider, &warm::Ses(ses)).await
}
