use tracing_subscriber::EnvFilter;

/// JSON logs to stdout (CloudWatch keeps them; LocalStack's executor writes them to a file),
/// filtered by `LOG_LEVEL` (`info` by default; any `EnvFilter` directive works). Lambda stamps
/// each line with its own time, so the logger adds none.
pub fn init_tracing() {
    let filter = std::env::var("LOG_LEVEL")
        .ok()
        .and_then(|level| EnvFilter::try_new(level).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .init();
}
