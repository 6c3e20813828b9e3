//! Runs a node: logging, the runtime, the node ([`credex_node::builder`]),
//! its API ([`credex_api`]) and the shutdown on SIGTERM / Ctrl-C.

use std::process::ExitCode;

use anyhow::Context as _;
use credex_node::args::{DevArgs, NodeArgs, ServeArgs};
use credex_node::builder::Running;

/// `credex dev`.
pub fn dev(args: DevArgs) -> anyhow::Result<ExitCode> {
    init_logging(args.serve.log_format())?;
    runtime()?.block_on(async move {
        let running = credex_node::builder::dev(&args).await?;
        serve(running, &args.serve, &args.data().display().to_string()).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `credex node`.
pub fn node(args: NodeArgs) -> anyhow::Result<ExitCode> {
    let args = args.resolve()?;
    if args.print_config {
        print!("{}", args.to_toml());
        return Ok(ExitCode::SUCCESS);
    }
    init_logging(args.serve.log_format())?;
    runtime()?.block_on(async move {
        let running = credex_node::builder::node(&args).await?;
        let data = args.serve.data.as_ref().map(|d| d.display().to_string()).unwrap_or_default();
        serve(running, &args.serve, &data).await
    })?;
    Ok(ExitCode::SUCCESS)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")
}

fn init_logging(format: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CREDEX_LOG")
        // libp2p's gossipsub logs whole messages at WARN when a peer's queue
        // is full; under load that floods the disk, so it is kept to errors.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,libp2p_gossipsub=error"));
    // colours only on a terminal: a log redirected to a file (systemd, a
    // devnet script) stays plain text
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        "json" => builder.json().init(),
        "pretty" => builder.init(),
        other => anyhow::bail!("--log-format {other:?}: use pretty or json"),
    }
    Ok(())
}

/// Serves the API of `running` until SIGTERM / Ctrl-C or until its engine fails.
async fn serve(running: Running, serve: &ServeArgs, data: &str) -> anyhow::Result<()> {
    let Running { node, access, warnings, engine } = running;
    serve.tls.check()?;
    let tls = match (&serve.tls.tls_cert, &serve.tls.tls_key) {
        (Some(cert), Some(key)) => Some(credex_api::tls::acceptor(cert, key)?),
        _ => None,
    };
    let http = serve.http();
    let listener = tokio::net::TcpListener::bind(http).await.with_context(|| format!("binding {http}"))?;
    tracing::info!(target: "credex::node", %http, data, chain = %node.genesis().chain_id,
        genesis = %node.genesis_hash(), height = node.height(), role = node.role(), "listening");
    let app = credex_api::router(node.clone(), warnings, access);
    let server = credex_api::server::serve(listener, app, tls, shutdown_signal());
    tokio::select! {
        r = server => r.context("http server")?,
        r = engine => match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e.context("block production stopped")),
            Err(e) => anyhow::bail!("block production task: {e}"),
        },
    }
    tracing::info!(target: "credex::node", height = node.height(), "stopped");
    Ok(())
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
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!(target: "credex::node", "shutting down");
}
