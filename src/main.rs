//! The `earshot` command: parse arguments, load the config, start logging, run.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use earshot::app::{App, RunOptions};
use earshot::config::Config;

const DEFAULT_CONFIG: &str = "bot-config/earshot.toml";

#[derive(Parser)]
#[command(version, about = "Every public mention of your brand, answered.")]
struct Cli {
    /// What to do; without one, earshot runs on bot-config/earshot.toml.
    #[command(subcommand)]
    command: Option<Command>,
    /// Log lines as text or JSON (on standard error); RUST_LOG filters them.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot.
    Run {
        #[arg(long, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// Poll every source once, run the commands on standard input, deliver, and exit.
        #[arg(long)]
        once: bool,
        /// Type in the terminal as this member.
        #[arg(long = "as", value_name = "NAME")]
        member: Option<String>,
    },
    /// Show what waits in the outbox, what a chat refused and why, and sources that fail.
    Status {
        #[arg(long, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
    },
    /// Check the config and exit.
    Check {
        #[arg(long, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
    },
    /// Create or bring forward the store's schema; with --to, copy the store into another one.
    Migrate {
        #[arg(long, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// An empty store to copy into: a postgres:// address, or a folder.
        #[arg(long, value_name = "POSTGRES-URL|FOLDER")]
        to: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

// See Cargo.toml: sled's write path is allocation-bound, and jemalloc is both faster and leaner
// there than the system allocator.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let command = cli.command.unwrap_or(Command::Run {
        config: PathBuf::from(DEFAULT_CONFIG),
        once: false,
        member: None,
    });
    match run(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("earshot: {error:#}");
            exit_code(&error)
        }
    }
}

/// 2 when the config was refused, so that a service manager does not restart earshot into the
/// same error (bot-config/earshot.service says `RestartPreventExitStatus=2`); 1 otherwise.
fn exit_code(error: &anyhow::Error) -> ExitCode {
    if error
        .downcast_ref::<earshot::config::ConfigError>()
        .is_some()
    {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Check { config } => {
            let config = Config::load(&config)?;
            println!("{}", summary(&config));
            Ok(())
        }
        Command::Migrate { config, to } => {
            let config = Config::load(&config)?;
            match to {
                None => println!("{}", earshot::store::Store::migrate(&config.store)?),
                Some(to) => {
                    let target = target_location(&to)?;
                    let source = earshot::store::Store::open_at(&config.store, Vec::new())?;
                    let copied = source.copy_into(&target)?;
                    println!("{copied} from {} to {target}", config.store);
                }
            }
            Ok(())
        }
        Command::Status { config } => {
            let config = Config::load(&config)?;
            println!("{}", status(&config)?);
            Ok(())
        }
        Command::Run {
            config,
            once,
            member,
        } => {
            let config = Config::load(&config)?;
            let options = RunOptions { once, member };
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            runtime.block_on(async {
                let app = App::build(&config, &options)?;
                if options.once {
                    app.run_once().await
                } else {
                    app.run().await
                }
            })?;
            // Stdin is read on a plain thread that may still be blocked; don't wait for it.
            runtime.shutdown_background();
            Ok(())
        }
    }
}

/// The live report when the store can be opened; else (the bot is running and holds the
/// store's lock) the one the running bot left beside it.
fn status(config: &Config) -> anyhow::Result<String> {
    let chats = config.chat_names();
    match earshot::store::Store::open_at(&config.store, chats) {
        Ok(store) => Ok(earshot::status::report(&store, chrono::Utc::now())?),
        Err(error) => {
            let earshot::store::Location::Folder(folder) = &config.store else {
                return Err(anyhow::Error::new(error).context("cannot read the store"));
            };
            let snapshot = earshot::status::snapshot_path(folder);
            match std::fs::read_to_string(&snapshot) {
                Ok(text) => Ok(format!(
                    "(the store is in use, by the running bot; its latest report, from {}:)\n{text}",
                    snapshot.display()
                )),
                Err(_) => Err(anyhow::Error::new(error)
                    .context("cannot read the store, and no running bot has left a report")),
            }
        }
    }
}

/// `--to`: a database when it is an address, else a folder (relative to where earshot runs).
fn target_location(to: &str) -> anyhow::Result<earshot::store::Location> {
    if to.starts_with("postgres://") || to.starts_with("postgresql://") {
        let url = earshot::store::DatabaseUrl::parse(to)
            .map_err(|problem| anyhow::anyhow!("--to: {problem}"))?;
        Ok(earshot::store::Location::Postgres(url))
    } else {
        Ok(earshot::store::Location::Folder(PathBuf::from(to)))
    }
}

fn summary(config: &Config) -> String {
    let mut lines = vec![format!("{} is valid.", config.file.display())];
    lines.push(format!("store: {}", config.store));
    if let Some(shell) = &config.shell {
        lines.push(format!(
            "chat: terminal, typing as {}; command {}",
            shell.user, config.command
        ));
    }
    for source in &config.sources {
        let place = source.spec.describe();
        lines.push(format!(
            "source {}: {} {} every {}",
            source.name,
            source.kind,
            place,
            humantime::format_duration(source.every)
        ));
    }
    if let Some(meta) = &config.meta_webhooks {
        lines.push(format!(
            "webhooks: Meta's at http://{}/meta/webhooks",
            meta.listen
        ));
    }
    lines.push(format!("keywords: {}", config.rules.keywords.join(", ")));
    for route in &config.routes.0 {
        let channels: Vec<String> = route
            .channels
            .iter()
            .map(|(chat, channel)| format!("{chat} {channel}"))
            .collect();
        lines.push(format!(
            "route {}: {}",
            route.name,
            if channels.is_empty() {
                "each chat's own channel".to_string()
            } else {
                channels.join(", ")
            }
        ));
    }
    if !config.replies.is_empty() {
        let names: Vec<String> = config
            .replies
            .replies
            .keys()
            .map(|n| format!(":{n}"))
            .collect();
        lines.push(format!("saved replies: {}", names.join(", ")));
    }
    lines.join("\n")
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("earshot=info,warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
