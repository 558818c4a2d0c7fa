//! nodenet under hyper 1.x, tokio-rustls and hickory-resolver: see `examples/`.
