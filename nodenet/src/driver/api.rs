//! The synchronous half of the public API, written once: the three backends expand these
//! macros inside `impl Socket` / `impl Server` (whose field `driver` is a
//! [`SocketDriver`](super::SocketDriver) / [`ServerDriver`](super::ServerDriver)), so the
//! names, signatures and docs cannot drift apart. Only `next_event`, `shutdown` and the
//! IO-trait impls are written per backend (they differ by `async`).

/// Node's `net.Socket` methods and getters that do not wait (expanded in each backend's
/// `impl Socket`).
#[macro_export]
#[doc(hidden)]
macro_rules! socket_sync_api {
    () => {
        /// `socket.connect(options)`: TCP (`ConnectOptions::tcp(port, host)`) or IPC
        /// (`ConnectOptions::path(p)`). Validation errors are returned as Node throws
        /// them; progress (lookup, attempts, `Connect`) happens while the socket is
        /// polled with `next_event` or used through the IO traits.
        pub fn connect(
            &mut self,
            options: $crate::__core::ConnectOptions,
        ) -> $crate::__core::Result<()> {
            self.driver.connect(options)
        }

        /// Node's `lookup` option: resolve names with this function instead of the system
        /// resolver (for every later `connect` by name).
        pub fn set_lookup(&mut self, lookup: impl $crate::driver::Lookup) {
            self.driver.set_lookup(::std::sync::Arc::new(lookup));
        }

        /// `socket.write(data)`: queue the bytes and try to send them at once. `false`
        /// means the queue reached the high-water mark: wait for `SocketEvent::Drain`.
        /// No `SocketEvent::WriteDone` follows (Node calls no callback it was not given);
        /// a failure Node reports through `'error'` still arrives as `SocketEvent::Error`.
        pub fn write(&mut self, data: impl Into<$crate::__bytes::Bytes>) -> bool {
            self.driver.write(data.into())
        }

        /// `socket.write(data, callback)`: [`write`](Self::write), and then one
        /// `SocketEvent::WriteDone` carrying the returned `id`, once the bytes reached the
        /// kernel (`Ok`) or the write failed (`ERR_STREAM_DESTROYED`, `EPIPE`, ...).
        pub fn write_tracked(
            &mut self,
            data: impl Into<$crate::__bytes::Bytes>,
        ) -> $crate::__core::WriteResult {
            self.driver.write_tracked(data.into())
        }

        /// `socket.end()`: send the FIN once everything queued is written (`Finish`).
        pub fn end(&mut self) -> $crate::__core::Result<()> {
            let r = self.driver.core_mut().end(::std::time::Instant::now());
            self.driver.after_user_call();
            r
        }

        /// `socket.end(data)`: `write(data)` then `end()`; returns the write's boolean.
        pub fn end_with(&mut self, data: impl Into<$crate::__bytes::Bytes>) -> bool {
            let ok = self.driver.write(data.into());
            let _ = self.driver.core_mut().end(::std::time::Instant::now());
            self.driver.after_user_call();
            ok
        }

        /// `socket.destroy([err])`: close now (`Error(err)` first when given, then
        /// `Close`).
        pub fn destroy(&mut self, err: Option<$crate::__core::Error>) {
            self.driver.core_mut().destroy(err);
            self.driver.after_user_call();
        }

        /// `socket.destroySoon()`: `end()`, then destroy after `Finish`.
        pub fn destroy_soon(&mut self) {
            self.driver
                .core_mut()
                .destroy_soon(::std::time::Instant::now());
            self.driver.after_user_call();
        }

        /// `socket.resetAndDestroy()`: close with an RST (`SO_LINGER 0`).
        pub fn reset_and_destroy(&mut self) -> $crate::__core::Result<()> {
            let r = self.driver.core_mut().reset_and_destroy();
            self.driver.after_user_call();
            r
        }

        /// `socket.pause()`: stop reading (no `Data` until `resume`).
        pub fn pause(&mut self) {
            self.driver.core_mut().pause();
            self.driver.after_user_call();
        }

        /// `socket.resume()`: deliver buffered data and read again.
        pub fn resume(&mut self) {
            self.driver.core_mut().resume(::std::time::Instant::now());
            self.driver.after_user_call();
        }

        /// `socket.setTimeout(msecs)`: `Timeout` after `msecs` idle (0 disables).
        pub fn set_timeout(
            &mut self,
            msecs: impl Into<$crate::__core::NumberArg>,
        ) -> $crate::__core::Result<()> {
            self.driver
                .core_mut()
                .set_timeout(msecs, ::std::time::Instant::now())
        }

        /// `socket.setNoDelay(enable)`.
        pub fn set_no_delay(&mut self, enable: bool) {
            self.driver.core_mut().set_no_delay(enable);
            self.driver.after_user_call();
        }

        /// `socket.setKeepAlive(enable, initialDelayMs)`.
        pub fn set_keep_alive(
            &mut self,
            enable: bool,
            initial_delay_ms: impl Into<$crate::__core::NumberArg>,
        ) {
            self.driver
                .core_mut()
                .set_keep_alive(enable, initial_delay_ms);
            self.driver.after_user_call();
        }

        /// `socket.setEncoding(enc)`: deliver `Text` instead of `Data`.
        pub fn set_encoding(&mut self, encoding: &str) -> $crate::__core::Result<()> {
            self.driver.core_mut().set_encoding(encoding)
        }

        /// `socket.readyState`.
        pub fn ready_state(&self) -> $crate::__core::ReadyState {
            self.driver.core().ready_state()
        }
        /// `socket.connecting`.
        pub fn connecting(&self) -> bool {
            self.driver.core().connecting()
        }
        /// `socket.pending`.
        pub fn pending(&self) -> bool {
            self.driver.core().pending()
        }
        /// `socket.destroyed`.
        pub fn destroyed(&self) -> bool {
            self.driver.core().destroyed()
        }
        /// `socket.bytesRead`.
        pub fn bytes_read(&self) -> u64 {
            self.driver.core().bytes_read()
        }
        /// `socket.bytesWritten`.
        pub fn bytes_written(&self) -> u64 {
            self.driver.core().bytes_written()
        }
        /// `socket.writableLength`.
        pub fn writable_length(&self) -> usize {
            self.driver.core().writable_length()
        }
        /// `socket.remoteAddress`.
        pub fn remote_address(&self) -> Option<::std::net::IpAddr> {
            self.driver.core().remote_address()
        }
        /// `socket.remotePort`.
        pub fn remote_port(&self) -> Option<u16> {
            self.driver.core().remote_port()
        }
        /// `socket.remoteFamily`.
        pub fn remote_family(&self) -> Option<$crate::__core::Family> {
            self.driver.core().remote_family()
        }
        /// `socket.localAddress`.
        pub fn local_address(&self) -> Option<::std::net::IpAddr> {
            self.driver.core().local_address()
        }
        /// `socket.localPort`.
        pub fn local_port(&self) -> Option<u16> {
            self.driver.core().local_port()
        }
        /// `socket.localFamily`.
        pub fn local_family(&self) -> Option<$crate::__core::Family> {
            self.driver.core().local_family()
        }
        /// `socket.address()` (`None` is Node's `{}`).
        pub fn address(&self) -> Option<::std::net::SocketAddr> {
            self.driver.core().address()
        }
        /// `socket.timeout`.
        pub fn timeout(&self) -> Option<f64> {
            self.driver.core().timeout()
        }
        /// `socket.autoSelectFamilyAttemptedAddresses`.
        pub fn auto_select_family_attempted_addresses(&self) -> Option<Vec<String>> {
            self.driver
                .core()
                .auto_select_family_attempted_addresses()
                .map(<[String]>::to_vec)
        }
        /// The core state machine: every other Node getter (`readable`, `writable_ended`,
        /// `writable_need_drain`, `readable_length`, ...).
        pub fn core(&self) -> &$crate::__core::Socket {
            self.driver.core()
        }
        /// Keep-alive and `TCP_NODELAY` as the kernel has them (getsockopt); `None`
        /// without a TCP connection.
        pub fn keep_alive_settings(&self) -> Option<::std::io::Result<($crate::KeepAlive, bool)>> {
            self.driver.keep_alive_settings()
        }
    };
}

/// Node's `net.Server` methods and getters that do not wait (expanded in each backend's
/// `impl Server`).
#[macro_export]
#[doc(hidden)]
macro_rules! server_sync_api {
    () => {
        /// `server.listen(options)`: port/host/backlog/ipv6_only or path/readable_all/
        /// writable_all. Node's synchronous errors are returned; the bind happens here
        /// (so `listening()` and `address()` are known on return unless a host must be
        /// looked up); bind failures arrive as `ServerEvent::Error`.
        pub fn listen(
            &mut self,
            options: $crate::__core::ListenOptions,
        ) -> $crate::__core::Result<()> {
            self.driver.listen(options)
        }
        /// `server.close()`: stop accepting; `Close` once every connection closed.
        /// `Err(ERR_SERVER_NOT_RUNNING)` when it was not listening (Node's callback error).
        pub fn close(&mut self) -> $crate::__core::Result<()> {
            self.driver.close()
        }
        /// `server.address()`.
        pub fn address(&self) -> Option<$crate::__core::Endpoint> {
            self.driver.core().address()
        }
        /// `server.listening`.
        pub fn listening(&self) -> bool {
            self.driver.core().listening()
        }
        /// `server.getConnections()`: accepted connections not yet closed.
        pub fn connections(&self) -> usize {
            self.driver.connections()
        }
        /// `server.maxConnections`.
        pub fn max_connections(&self) -> Option<u32> {
            self.driver.core().max_connections()
        }
        /// `server.maxConnections = n` (`None` = unlimited).
        pub fn set_max_connections(&mut self, max: Option<u32>) {
            self.driver.core_mut().set_max_connections(max)
        }
        /// A resolver for `listen({host})` instead of the system one.
        pub fn set_lookup(&mut self, lookup: impl $crate::driver::Lookup) {
            self.driver.set_lookup(::std::sync::Arc::new(lookup));
        }
        /// Beyond Node: failed `accept(2)` calls so far. A burst of failures (`EMFILE`
        /// while descriptors are exhausted) is reported once as `ServerEvent::Error`
        /// (`accept EMFILE`) and retried after growing pauses (10 ms doubling to
        /// 250 ms); queued connections are served once descriptors free up.
        pub fn accept_failures(&self) -> u64 {
            self.driver.accept_failures()
        }
        /// The core state machine.
        pub fn core(&self) -> &$crate::__core::Server {
            self.driver.core()
        }
    };
}

/// The public types every backend has: `Socket`, `Server`, `ServerEvent`, `connect`,
/// `create_connection`, `create_server`, with their constructors and the synchronous API.
/// `$rt` is the backend's [`Runtime`](crate::driver::Runtime) type and `$new` an
/// expression making a fresh handle of it.
#[macro_export]
#[doc(hidden)]
macro_rules! backend_types {
    ($rt:ty, $new:expr) => {
        /// Node's `net.Socket` on this runtime: owns the core state machine and the OS
        /// socket directly (no task or channel in between). It makes progress while its
        /// owner polls it (`next_event`, the IO traits) or calls it (`write` tries to send
        /// at once), as any Rust IO object does.
        #[derive(Debug)]
        pub struct Socket {
            driver: $crate::driver::SocketDriver<$rt>,
        }

        impl Socket {
            /// `new net.Socket(options)`: unconnected; call `connect`.
            pub fn new(options: $crate::__core::SocketOptions) -> Socket {
                Socket {
                    driver: $crate::driver::SocketDriver::new($new, options),
                }
            }

            /// Wrap a connected std stream (`new net.Socket({fd})`), open at once with
            /// `options` applied (no-delay, keep-alive, pause-on-connect).
            pub fn from_std(
                stream: impl Into<$crate::driver::StdStream>,
                options: $crate::__core::SocketOptions,
            ) -> ::std::io::Result<Socket> {
                let driver = $crate::driver::SocketDriver::from_std($new, stream.into(), options)?;
                Ok(Socket { driver })
            }

            /// Take the OS stream back (non-blocking); `None` without a connection.
            pub fn into_std(self) -> ::std::io::Result<Option<$crate::driver::StdStream>> {
                self.driver.into_std()
            }

            $crate::socket_sync_api!();
        }

        /// `net.connect(options)` / `net.createConnection(options)`: a new socket,
        /// already connecting.
        pub fn connect(options: $crate::__core::ConnectOptions) -> $crate::__core::Result<Socket> {
            let mut s = Socket::new($crate::__core::SocketOptions::default());
            s.connect(options)?;
            Ok(s)
        }

        /// `net.createConnection(options)` (same as [`connect`]).
        pub fn create_connection(
            options: $crate::__core::ConnectOptions,
        ) -> $crate::__core::Result<Socket> {
            connect(options)
        }

        /// A server event, with accepted connections as [`Socket`]s.
        pub type ServerEvent = $crate::driver::ServerEvent<Socket>;

        /// Node's `net.Server` on this runtime: owns the core state machine and the
        /// listener; accepted sockets report their close back to it.
        #[derive(Debug)]
        pub struct Server {
            driver: $crate::driver::ServerDriver<$rt>,
        }

        impl Server {
            /// `net.createServer(options)`.
            pub fn new(options: $crate::__core::ServerOptions) -> Server {
                Server {
                    driver: $crate::driver::ServerDriver::new($new, options),
                }
            }

            /// Serve on an already bound and listening std listener (`listen({fd})`).
            pub fn from_std(
                listener: impl Into<$crate::driver::StdListener>,
                options: $crate::__core::ServerOptions,
            ) -> $crate::__core::Result<Server> {
                let driver =
                    $crate::driver::ServerDriver::from_std($new, listener.into(), options)?;
                Ok(Server { driver })
            }

            /// Take the listening socket back (`None` without one); the server stops
            /// without closing it or unlinking its file.
            pub fn into_std(self) -> ::std::io::Result<Option<$crate::driver::StdListener>> {
                self.driver.into_std()
            }

            $crate::server_sync_api!();
        }

        /// `net.createServer(options)`.
        pub fn create_server(options: $crate::__core::ServerOptions) -> Server {
            Server::new(options)
        }
    };
}

/// `next_event` and `shutdown` as `async fn`s (tokio and smol).
#[macro_export]
#[doc(hidden)]
macro_rules! async_api {
    () => {
        impl Socket {
            /// The next event, driving the IO until there is one; `None` once nothing
            /// more can happen (after `Close`, or never connected).
            pub async fn next_event(&mut self) -> Option<$crate::__core::SocketEvent> {
                ::std::future::poll_fn(|cx| self.driver.poll_event(cx)).await
            }
        }

        impl Server {
            /// The next event (`Listening`, `Connection(Socket)`, `Drop`, `Error`,
            /// `Close`), accepting meanwhile; `None` once nothing more can happen.
            pub async fn next_event(&mut self) -> Option<ServerEvent> {
                ::std::future::poll_fn(|cx| self.driver.poll_event(cx))
                    .await
                    .map(|e| e.map(|driver| Socket { driver }))
            }

            /// Beyond Node: stop accepting, `end()` every open connection, destroy those
            /// still open at `deadline`, and return once all are closed. The sockets'
            /// owners must keep polling them (their tasks are woken for the requests);
            /// dropping a socket counts as closing it.
            pub async fn shutdown(&mut self, deadline: ::std::time::Instant) {
                ::std::future::poll_fn(|cx| self.driver.poll_shutdown(cx, deadline)).await
            }
        }
    };
}
