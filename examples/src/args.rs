//! The demo's command line: `--backend tokio|smol|std`, `--port N` (default 8124, as in
//! Node's example), `--host H`, `--path P` (a Unix socket instead of TCP).

/// Parsed arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Args {
    /// `tokio` (default), `smol` or `std`.
    pub backend: String,
    /// TCP port (8124).
    pub port: u16,
    /// TCP host to listen on / connect to (`None`: the server listens on `::`, the client
    /// connects to `localhost`).
    pub host: Option<String>,
    /// Unix socket path.
    pub path: Option<String>,
}

impl Args {
    /// Parse `std::env::args()`-style arguments (without the program name).
    ///
    /// ```
    /// let a = nodenet_examples::args::Args::parse(["--backend", "std", "--path", "/tmp/e.sock"]).unwrap();
    /// assert_eq!((a.backend.as_str(), a.port, a.path.as_deref()), ("std", 8124, Some("/tmp/e.sock")));
    /// ```
    pub fn parse<I, S>(args: I) -> Result<Args, String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut out = Args {
            backend: "tokio".into(),
            port: 8124,
            host: None,
            path: None,
        };
        let mut it = args.into_iter().map(Into::into);
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--backend" => out.backend = value()?,
                "--port" => out.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
                "--host" => out.host = Some(value()?),
                "--path" => out.path = Some(value()?),
                other => return Err(format!("unknown argument {other}")),
            }
        }
        match out.backend.as_str() {
            "tokio" | "smol" | "std" => Ok(out),
            other => Err(format!("unknown backend {other} (tokio, smol or std)")),
        }
    }
}
