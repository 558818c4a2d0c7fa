//! Unix domain sockets (Node's "pipes"): path and Linux abstract names, `readableAll` /
//! `writableAll` file modes.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};

use socket2::{Domain, SockAddr, Socket, Type};

use crate::tcp::is_in_progress;
use crate::{Step, StepError};

fn unix_addr(path: &str) -> io::Result<SockAddr> {
    // socket2 treats a leading NUL as a Linux abstract name, as Node does.
    SockAddr::unix(path)
}

/// The file a socket path names: the path up to its first NUL, as libuv takes it (a C
/// string) and as the kernel binds it; an abstract name (leading NUL) is no file.
pub(crate) fn socket_file(path: &str) -> Option<&str> {
    if path.starts_with('\0') {
        return None;
    }
    path.split('\0').next()
}

fn new_unix_socket(nonblocking: bool) -> io::Result<Socket> {
    let ty = if nonblocking {
        Type::STREAM.nonblocking()
    } else {
        Type::STREAM
    };
    Socket::new(Domain::UNIX, ty, None)
}

/// Bind and listen on a Unix socket path (or abstract name, leading `\0`), then apply
/// `readableAll` (`mode |= 0o444`) / `writableAll` (`mode |= 0o222`) to the socket file.
/// An existing file at the path fails at bind with `EADDRINUSE`, as in Node.
pub fn unix_listen(
    path: &str,
    backlog: u32,
    readable_all: bool,
    writable_all: bool,
    nonblocking: bool,
) -> Result<UnixListener, StepError> {
    let addr = unix_addr(path).map_err(StepError::at(Step::Bind))?;
    let socket = new_unix_socket(nonblocking).map_err(StepError::at(Step::Socket))?;
    socket.bind(&addr).map_err(StepError::at(Step::Bind))?;
    let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
    socket
        .listen(backlog)
        .map_err(StepError::at(Step::Listen))?;
    let file = socket_file(path).filter(|_| readable_all || writable_all);
    if let Some(path) = file {
        let mut perms = std::fs::metadata(path)
            .map_err(StepError::at(Step::Chmod))?
            .permissions();
        let mut mode = perms.mode();
        if readable_all {
            mode |= 0o444;
        }
        if writable_all {
            mode |= 0o222;
        }
        perms.set_mode(mode);
        std::fs::set_permissions(path, perms).map_err(StepError::at(Step::Chmod))?;
    }
    Ok(socket.into())
}

/// An outgoing Unix socket connection that has been started.
#[derive(Debug)]
pub struct UnixConnectStart {
    /// The socket.
    pub stream: UnixStream,
    /// `true` when the connect is still in progress (non-blocking start).
    #[allow(dead_code)] // the driver waits for writability either way; tests read it
    pub in_progress: bool,
}

/// Connect to a Unix socket path or abstract name.
pub fn unix_connect(path: &str, nonblocking: bool) -> Result<UnixConnectStart, StepError> {
    let addr = unix_addr(path).map_err(StepError::at(Step::Connect))?;
    let socket = new_unix_socket(nonblocking).map_err(StepError::at(Step::Socket))?;
    let in_progress = match socket.connect(&addr) {
        Ok(()) => false,
        Err(e) if nonblocking && is_in_progress(&e) => true,
        Err(e) => return Err(StepError::at(Step::Connect)(e)),
    };
    Ok(UnixConnectStart {
        stream: socket.into(),
        in_progress,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn a_path_ends_at_its_first_nul_as_libuv_takes_it() {
        // Node v20 binds `'/dir/s.sock\0junk'` as `/dir/s.sock` (a C string).
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.sock");
        let file = file.to_str().unwrap();
        let path = format!("{file}\0junk");
        let _listener = unix_listen(&path, 511, true, false, false).unwrap();
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o444;
        assert_eq!(mode, 0o444, "readableAll reached the bound file");
        assert_eq!(socket_file(&path), Some(file));
        assert_eq!(socket_file("\0abstract"), None);
        unix_connect(&path, false).expect("connects to the bound file");
    }

    #[test]
    fn path_listener_modes_and_eaddrinuse() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        let path = path.to_str().unwrap();
        let listener = unix_listen(path, 511, true, true, false).unwrap();
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o777);
        let err = unix_listen(path, 511, false, false, false).unwrap_err();
        assert_eq!(
            (err.step, err.error.kind()),
            (Step::Bind, io::ErrorKind::AddrInUse)
        );

        let mut client = unix_connect(path, false).unwrap().stream;
        let (mut server_side, _) = listener.accept().unwrap();
        client.write_all(b"ok").unwrap();
        let mut buf = [0u8; 2];
        server_side.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ok");
    }

    #[test]
    fn abstract_names_and_missing_paths() {
        let name = format!("\0nodenet-test-{}", std::process::id());
        let listener = unix_listen(&name, 16, false, false, false).unwrap();
        let _client = unix_connect(&name, false).unwrap();
        let _ = listener.accept().unwrap();
        let err = unix_connect("/nonexistent/nodenet.sock", false).unwrap_err();
        assert_eq!(err.error.kind(), io::ErrorKind::NotFound);
    }
}
