//! `notifier-cli`: manage the tenants of a deployed notifier stack.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use notifier_aws::tenants::DynamoTenantStore;
use notifier_cli::stack::{DEFAULT_STACK, StackOutputs};
use notifier_cli::{CliError, tenant};

/// Operate a deployed notifier stack. Uses the ordinary AWS environment (credentials, region,
/// AWS_ENDPOINT_URL for LocalStack).
#[derive(Parser)]
#[command(name = "notifier-cli", version)]
struct Cli {
    /// CloudFormation stack to operate on.
    #[arg(long, global = true, env = "NOTIFIER_STACK", default_value = DEFAULT_STACK)]
    stack: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Tenants and their API keys.
    #[command(subcommand)]
    Tenant(TenantCommand),
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant; prints {"tenant_id", "api_key"}. The key is shown only this once.
    Create {
        #[arg(value_parser = tenant::validate_name)]
        name: String,
    },
    /// List tenants (ids, names, creation times; never keys).
    List,
    /// Issue a new API key for a tenant; the old key stops working.
    RotateKey { tenant_id: String },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(output) => {
            println!("{output:#}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<serde_json::Value, CliError> {
    let sdk_config = notifier_aws::load_sdk_config().await?;
    let outputs = StackOutputs::load(&aws_sdk_cloudformation::Client::new(&sdk_config), &cli.stack).await?;
    let store = DynamoTenantStore::new(
        aws_sdk_dynamodb::Client::new(&sdk_config),
        outputs.get("TenantsTableName")?,
    );
    match cli.command {
        Command::Tenant(TenantCommand::Create { name }) => tenant::create(&store, &name).await,
        Command::Tenant(TenantCommand::List) => tenant::list(&store).await,
        Command::Tenant(TenantCommand::RotateKey { tenant_id }) => {
            tenant::rotate_key(&store, &tenant_id).await
        }
    }
}
