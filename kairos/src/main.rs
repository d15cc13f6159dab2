//! The `kairos` binary: parse settings, set up logging, then serve or run an admin task.

#![forbid(unsafe_code)]

use clap::Parser;
use kairos::{
    admin_cli,
    config::{AdminCommand, Cli, Command},
    startup::Application,
    telemetry,
};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The benchmark's bulk load is one statement of many seconds, which sqlx would report as
    // slow; the benchmark prints its own findings.
    let default_filter = match cli.command {
        Some(Command::Bench(_)) => "info,sqlx=error",
        _ => "info",
    };
    telemetry::init(cli.settings.log_format, default_filter);
    let settings = cli.settings.into_settings();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(settings).await?;
            tracing::info!(addr = %app.local_addr(), "kairos is listening");
            app.run_until_stopped().await
        }
        Command::Admin {
            command: AdminCommand::Create { email },
        } => admin_cli::create_admin(&settings, &email).await,
        Command::Bench(args) => kairos::bench::run(args, &settings).await,
    }
}
