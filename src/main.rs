//! The `kairos` binary: parse settings, set up logging, then serve or run an admin task.

#![forbid(unsafe_code)]

use clap::Parser;
use kairos::{
    admin_cli,
    config::{AdminCommand, Cli, Command},
    startup::Application,
    telemetry,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.settings.log_format);
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
    }
}
