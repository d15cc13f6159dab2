//! The `kairos` binary: parse the command line, set up logging, then serve or run an admin task.

#![forbid(unsafe_code)]

use clap::Parser;
use kairos::{
    cli::{AdminCommand, Cli, Command, ServeArgs},
    commands,
    config::LogFormat,
    startup::Application,
    telemetry,
};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(*args).await,
        Some(Command::Admin {
            command: AdminCommand::Create(args),
        }) => {
            telemetry::init(LogFormat::Text, "warn");
            commands::create_admin(args).await
        }
        Some(Command::Backup(args)) => {
            telemetry::init(LogFormat::Text, "warn");
            commands::backup(args).await
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    telemetry::init(args.log_format, "info");
    let app = Application::build(args.into_settings()).await?;
    tracing::info!(addr = %app.local_addr(), "kairos is listening");
    app.run_until_stopped().await
}
