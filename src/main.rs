//! Entry point: parse the configuration, start logging, then serve or run a one-shot command.

use clap::Parser;
use crm_gateway::config::{Cli, Command};

/// Small, short-lived allocations dominate a GraphQL answer (one value per field); glibc's
/// malloc took a quarter of a nested read's CPU profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let _logs = crm_gateway::ops::logging::init(cli.config.ops.log_format);
    let outcome = match cli.command {
        None => crm_gateway::app::run(cli.config).await,
        Some(Command::Schema(args)) => crm_gateway::graphql::print_sdl(args.tier).await,
        Some(Command::Token(args)) => crm_gateway::auth::cli::mint(&cli.config, &args).await,
        Some(Command::Seed(args)) => crm_gateway::seed::bulk::run(&cli.config.database_url, &args)
            .await
            .map_err(Into::into),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
