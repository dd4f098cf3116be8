//! The `earshot` command: parse arguments, load the config, start logging, run.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use earshot::app::{App, RunOptions};
use earshot::config::{Config, SourceKind};
use earshot::sources::feed::Location;

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
    /// Check the config and exit.
    Check {
        #[arg(long, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
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
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Check { config } => {
            let config = Config::load(&config)?;
            println!("{}", summary(&config));
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

fn summary(config: &Config) -> String {
    let mut lines = vec![format!("{} is valid.", config.file.display())];
    lines.push(format!("store: {}", config.store.display()));
    if let Some(shell) = &config.shell {
        lines.push(format!(
            "chat: terminal, typing as {}; command {}",
            shell.user, config.command
        ));
    }
    for source in &config.sources {
        let place = match &source.kind {
            SourceKind::Feed {
                location: Location::Url(url),
            } => url.clone(),
            SourceKind::Feed {
                location: Location::File(path),
            } => path.display().to_string(),
            SourceKind::HackerNews(settings) => format!("search {:?}", settings.query),
            SourceKind::Reddit(settings) => format!(
                "/u/{}, {} watch(es)",
                settings.username,
                settings.watch.len()
            ),
            SourceKind::X(settings) => format!(
                "user {}, {} watch(es)",
                settings.user_id,
                settings.watch.len()
            ),
            SourceKind::YouTube(settings) => settings.describe(),
            SourceKind::LinkedIn(settings) => settings.describe(),
            SourceKind::Mastodon {
                instance, watch, ..
            } => format!("{instance} watching {watch:?}"),
            SourceKind::Bluesky {
                pds, handle, watch, ..
            } => format!("{handle} at {pds} watching {watch:?}"),
        };
        lines.push(format!(
            "source {}: {} {} every {}",
            source.name,
            source.kind.label(),
            place,
            humantime::format_duration(source.every)
        ));
    }
    lines.push(format!("keywords: {}", config.rules.keywords.join(", ")));
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
