//! The command line of `baidu-imageprocess-emulator` (also `bdip serve`).

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use baidu_imageprocess_protocol::{Operation, SecretKey, UnknownOperation};

use crate::config::EmulatorConfig;
use crate::state::AppState;

/// Serve Baidu's image-process API locally, backed by the local engine.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Accept only this API key (otherwise any credentials work).
    #[arg(long, requires = "secret_key")]
    pub api_key: Option<String>,
    /// The secret key that goes with --api-key.
    #[arg(long, requires = "api_key", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Lifetime of issued tokens, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 2_592_000)]
    pub token_ttl: u64,
    /// Operation requests per second before answering error 18 (0.001 to 10000;
    /// fractions allowed, e.g. 0.5 for one every two seconds; omit it for no limit).
    #[arg(long, value_name = "N", value_parser = qps)]
    pub qps: Option<f64>,
    /// Share of operation requests failed with 1, 2 or 282000 (0 to 1).
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = share)]
    pub fail_rate: f64,
    /// Seed for injected failures.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Delay before answering each operation request, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Answer this operation with error 6 (repeatable): a wire name such as dehaze or
    /// style_trans, or bdip's subcommand name such as inpaint or colour-enhance.
    #[arg(long, value_name = "OP", value_parser = operation)]
    pub deny: Vec<Operation>,
    /// Return each input image unchanged (for transport benchmarks).
    #[arg(long)]
    pub echo: bool,
    /// Engine jobs run at once (default: CPU cores; at most 1024).
    #[arg(long, value_name = "N", value_parser = workers)]
    pub workers: Option<usize>,
    /// Do not serve the console (the web page at `/` and its endpoints).
    #[arg(long)]
    pub no_console: bool,
    /// Fetch `url` inputs from any host (by default only from loopback addresses).
    #[arg(long)]
    pub fetch_any_url: bool,
    /// Share --qps with every emulator given the same Redis,
    /// `redis://[:PASSWORD@]HOST:PORT/DB` (instances behind one load balancer act as one
    /// account). Unreachable at start: exit 2.
    #[arg(long, value_name = "URL", env = "BDIP_BUDGET", hide_env_values = true)]
    pub budget: Option<String>,
    /// Sign issued tokens with this secret: a token issued by one instance is accepted by
    /// every instance given the same secret.
    #[arg(
        long,
        value_name = "S",
        env = "BDIP_TOKEN_SECRET",
        hide_env_values = true
    )]
    pub token_secret: Option<String>,
}

impl ServeArgs {
    /// The configuration these flags describe.
    pub fn config(&self) -> EmulatorConfig {
        let mut config = EmulatorConfig {
            api_key: self.api_key.clone(),
            secret_key: self.secret_key.clone().map(SecretKey::new),
            token_ttl: Duration::from_secs(self.token_ttl.max(1)),
            qps: self.qps,
            fail_rate: self.fail_rate,
            seed: self.seed,
            latency: Duration::from_millis(self.latency_ms),
            deny: self.deny.clone(),
            echo: self.echo,
            console: !self.no_console,
            fetch_any_url: self.fetch_any_url,
            token_secret: self.token_secret.clone().map(SecretKey::new),
            ..EmulatorConfig::default()
        };
        if let Some(workers) = self.workers {
            config.workers = workers.max(1);
        }
        config
    }
}

/// A probability: a finite number from 0 to 1 (`nan` would fail every request).
fn share(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err("expected a number from 0 to 1".into()),
    }
}

/// `--qps` bounds: the client's (`bdip --qps`, `Client::builder().qps`).
const QPS_RANGE: (f64, f64) = (0.001, 10_000.0);

/// Operation requests per second; 0 is refused rather than read as "no limit".
fn qps(text: &str) -> Result<f64, String> {
    let (low, high) = QPS_RANGE;
    match text.trim().parse::<f64>() {
        Ok(0.0) => Err(format!(
            "0 would refuse every request; use a number from {low} to {high}, or leave --qps out for no limit"
        )),
        Ok(q) if q.is_finite() && (low..=high).contains(&q) => Ok(q),
        _ => Err(format!(
            "expected a number from {low} to {high}, e.g. 0.5 or 20"
        )),
    }
}

/// An operation by wire name or `bdip` subcommand name; the error lists the valid names.
fn operation(text: &str) -> Result<Operation, String> {
    text.parse().map_err(|e: UnknownOperation| e.to_string())
}

/// Most `--workers`: beyond the machine's cores they only add memory.
const MAX_WORKERS: usize = 1024;

fn workers(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_WORKERS).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from 1 to {MAX_WORKERS}")),
    }
}

/// Runs the emulator until SIGINT or SIGTERM. Prints `listening on http://ADDR` as the
/// first line of stdout.
pub fn run(args: &ServeArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(async {
        let listener = match tokio::net::TcpListener::bind(args.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {}: {e}", args.listen);
                return ExitCode::from(2);
            }
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "listening on http://{addr}");
        let _ = stdout.flush();
        drop(stdout);
        if !args.no_console {
            eprintln!("console: http://{addr}/ (turn it off with --no-console)");
        }
        let mut config = args.config();
        if let Some(url) = args.budget.as_deref().filter(|u| !u.trim().is_empty()) {
            match baidu_imageprocess_redis::RedisBudget::builder(url)
                .and_then(|b| b.stderr_warning(true).connect())
            {
                Ok(budget) => config.budget = Some(budget),
                Err(e) => {
                    eprintln!("error: --budget: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        let state = AppState::new(config);
        match crate::serve(listener, state, shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_flags_are_validated() {
        assert_eq!(share("0.25"), Ok(0.25));
        for bad in ["nan", "NaN", "-0.1", "1.5", "inf", "x"] {
            assert!(share(bad).is_err(), "{bad}");
        }
        assert_eq!(qps("0.5"), Ok(0.5));
        assert_eq!(qps("20"), Ok(20.0));
        for bad in ["0", "0.0", "-1", "0.0001", "10001", "nan", "inf", "x"] {
            assert!(qps(bad).is_err(), "{bad}");
        }
        assert!(qps("0").unwrap_err().contains("no limit"));
        assert_eq!(operation("inpaint"), Ok(Operation::Inpainting));
        assert_eq!(operation("style_trans"), Ok(Operation::StyleTrans));
        let unknown = operation("sharpen").unwrap_err();
        assert!(unknown.contains("customize_stylization"), "{unknown}");
        assert_eq!(workers("4"), Ok(4));
        for bad in ["0", "1025", "18446744073709551615"] {
            assert!(workers(bad).is_err(), "{bad}");
        }
    }
}
