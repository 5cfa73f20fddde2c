//! Stdin and stdout on the runtime's own reactor. `tokio::io::stdin()`/`stdout()` do every
//! read and write on a blocking-pool thread, so each message in or out pays a thread hand-off
//! (a wake-up on each side, tens of µs on a VM): two per chat's first token
//! (docs/performance.md). An editor gives us pipes or Unix sockets, which epoll can watch:
//! those are made non-blocking and read and written by the runtime thread itself. Anything
//! else (a terminal, a file, /dev/null) keeps tokio's blocking-pool handles, so a terminal
//! shared with a shell is never switched to non-blocking.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::FileTypeExt;

use tokio::io::{AsyncRead, AsyncWrite};

pub type Input = Box<dyn AsyncRead + Send + Unpin>;
pub type Output = Box<dyn AsyncWrite + Send + Unpin>;

#[derive(Debug)]
enum Kind {
    Fifo,
    Socket,
    Other,
}

/// A duplicate of the descriptor (same open file, so the same pipe or socket) and its kind.
fn inspect(fd: impl AsFd) -> io::Result<(OwnedFd, Kind)> {
    let owned = fd.as_fd().try_clone_to_owned()?;
    let file_type = File::from(owned.try_clone()?).metadata()?.file_type();
    let kind = if file_type.is_fifo() {
        Kind::Fifo
    } else if file_type.is_socket() {
        Kind::Socket
    } else {
        Kind::Other
    };
    Ok((owned, kind))
}

fn socket(fd: OwnedFd) -> io::Result<tokio::net::UnixStream> {
    let stream = std::os::unix::net::UnixStream::from(fd);
    stream.set_nonblocking(true)?;
    tokio::net::UnixStream::from_std(stream)
}

/// Stdin for the transport; needs a running runtime (the reactor registers the descriptor).
pub fn stdin() -> Input {
    let stdin = io::stdin();
    let registered = inspect(&stdin).and_then(|(fd, kind)| -> io::Result<Option<Input>> {
        tracing::debug!("stdin is a {kind:?}");
        Ok(match kind {
            Kind::Fifo => Some(Box::new(tokio::net::unix::pipe::Receiver::from_owned_fd(
                fd,
            )?)),
            Kind::Socket => Some(Box::new(socket(fd)?)),
            Kind::Other => None,
        })
    });
    match registered {
        Ok(Some(input)) => {
            tracing::debug!("stdin is read on the reactor");
            input
        }
        Ok(None) => Box::new(tokio::io::stdin()),
        Err(e) => {
            tracing::debug!("stdin stays on the blocking pool: {e}");
            Box::new(tokio::io::stdin())
        }
    }
}

/// Stdout for the transport; needs a running runtime.
pub fn stdout() -> Output {
    let stdout = io::stdout();
    let registered = inspect(&stdout).and_then(|(fd, kind)| -> io::Result<Option<Output>> {
        tracing::debug!("stdout is a {kind:?}");
        Ok(match kind {
            Kind::Fifo => Some(Box::new(tokio::net::unix::pipe::Sender::from_owned_fd(fd)?)),
            Kind::Socket => Some(Box::new(socket(fd)?)),
            Kind::Other => None,
        })
    });
    match registered {
        Ok(Some(output)) => {
            tracing::debug!("stdout is written on the reactor");
            output
        }
        Ok(None) => Box::new(tokio::io::stdout()),
        Err(e) => {
            tracing::debug!("stdout stays on the blocking pool: {e}");
            Box::new(tokio::io::stdout())
        }
    }
}
