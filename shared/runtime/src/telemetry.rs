use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// JSON logs to stdout (CloudWatch keeps them; LocalStack's executor writes them to a file),
/// filtered by `LOG_LEVEL`: a level (`info` by default) or a list such as
/// `warn,router=debug`. Lambda stamps each line with its own time, so the logger adds none.
/// (A `Targets` filter, not `EnvFilter`: the same directives without the regex engine, which
/// would add about half a megabyte to every binary.)
pub fn init_tracing() {
    let filter = std::env::var("LOG_LEVEL")
        .ok()
        .and_then(|level| level.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    let format = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .with_target(false);
    tracing_subscriber::registry().with(format).with(filter).init();
}
