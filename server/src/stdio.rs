//! Stdin and stdout on the runtime's own reactor. `tokio::io::stdin()`/`stdout()` do every
//! read and write on a blocking-pool thread, so each message in or out pays a thread hand-off
//! (a wake-up on each side, tens of µs on a VM): two per chat's first token
//! (docs/performance.md). An editor gives us pipes or Unix sockets, which epoll can watch:
//! those are made non-blocking and read and written by the runtime thread itself. Anything
//! else (a terminal, a file, /dev/null) keeps tokio's blocking-pool handles, so a terminal
//! shared with a shell is never switched to non-blocking.

//!
//! On Windows, VS Code gives the child anonymous pipes, which tokio's reactor (IOCP) cannot
//! take over: stdin and stdout stay tokio's blocking-pool handles there.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::oneshot;

pub type Input = Box<dyn AsyncRead + Send + Unpin>;
pub type Output = Box<dyn AsyncWrite + Send + Unpin>;

/// `output`, and what its first failed write said: a client that stopped reading (closed its
/// end of the pipe) can hear nothing more, so the session ends instead of serving into the
/// void.
pub fn watched(output: Output) -> (Output, oneshot::Receiver<String>) {
    let (tx, rx) = oneshot::channel();
    (
        Box::new(Watched {
            inner: output,
            failed: Some(tx),
        }),
        rx,
    )
}

struct Watched {
    inner: Output,
    failed: Option<oneshot::Sender<String>>,
}

impl Watched {
    fn seen<T>(&mut self, poll: Poll<std::io::Result<T>>) -> Poll<std::io::Result<T>> {
        if let Poll::Ready(Err(e)) = &poll
            && let Some(tx) = self.failed.take()
        {
            let _ = tx.send(e.to_string());
        }
        poll
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.seen(poll)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        this.seen(poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.seen(poll)
    }
}

#[cfg(unix)]
pub use unix::{stdin, stdout};

/// Stdin for the transport (tokio's blocking-pool handle).
#[cfg(not(unix))]
pub fn stdin() -> Input {
    Box::new(tokio::io::stdin())
}

/// Stdout for the transport (tokio's blocking-pool handle).
#[cfg(not(unix))]
pub fn stdout() -> Output {
    Box::new(tokio::io::stdout())
}

#[cfg(unix)]
mod unix {
    use std::fs::File;
    use std::io;
    use std::os::fd::{AsFd, OwnedFd};
    use std::os::unix::fs::FileTypeExt;

    use super::{Input, Output};

    #[derive(Debug)]
    enum Kind {
        Fifo,
        Socket,
        Other,
    }

    /// A duplicate of the descriptor (same open file, so the same pipe or socket) and its kind.
    fn inspect(fd: impl AsFd) -> io::Result<(OwnedFd, Kind)> {
        let file = File::from(fd.as_fd().try_clone_to_owned()?);
        let file_type = file.metadata()?.file_type();
        let kind = if file_type.is_fifo() {
            Kind::Fifo
        } else if file_type.is_socket() {
            Kind::Socket
        } else {
            Kind::Other
        };
        Ok((OwnedFd::from(file), kind))
    }

    /// `fd` registered with the reactor: `fifo` for a pipe, a Unix stream for a socket; `fallback`
    /// (tokio's blocking-pool handle) for anything else or if registering fails.
    fn on_reactor<T>(
        name: &str,
        verb: &str,
        fd: impl AsFd,
        fifo: impl FnOnce(OwnedFd) -> io::Result<T>,
        socket: impl FnOnce(tokio::net::UnixStream) -> T,
        fallback: impl FnOnce() -> T,
    ) -> T {
        let registered = inspect(fd).and_then(|(fd, kind)| {
            tracing::debug!("{name} is a {kind:?}");
            Ok(match kind {
                Kind::Fifo => Some(fifo(fd)?),
                Kind::Socket => {
                    let stream = std::os::unix::net::UnixStream::from(fd);
                    stream.set_nonblocking(true)?;
                    Some(socket(tokio::net::UnixStream::from_std(stream)?))
                }
                Kind::Other => None,
            })
        });
        match registered {
            Ok(Some(io)) => {
                tracing::debug!("{name} is {verb} on the reactor");
                io
            }
            Ok(None) => fallback(),
            Err(e) => {
                tracing::debug!("{name} stays on the blocking pool: {e}");
                fallback()
            }
        }
    }

    /// Stdin for the transport; needs a running runtime (the reactor registers the descriptor).
    pub fn stdin() -> Input {
        on_reactor(
            "stdin",
            "read",
            io::stdin(),
            |fd| Ok(Box::new(tokio::net::unix::pipe::Receiver::from_owned_fd(fd)?) as Input),
            |stream| Box::new(stream),
            || Box::new(tokio::io::stdin()),
        )
    }

    /// Stdout for the transport; needs a running runtime.
    pub fn stdout() -> Output {
        on_reactor(
            "stdout",
            "written",
            io::stdout(),
            |fd| Ok(Box::new(tokio::net::unix::pipe::Sender::from_owned_fd(fd)?) as Output),
            |stream| Box::new(stream),
            || Box::new(tokio::io::stdout()),
        )
    }
}
