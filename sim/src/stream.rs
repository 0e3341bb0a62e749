//! Trace lines written to an output as the run writes them, so that a long
//! run's trace reaches the reader without being kept in memory (`sim
//! replay`).
//!
//! A reader that goes away (`sim replay … | head`) closes the pipe; Rust
//! ignores `SIGPIPE`, so the next write fails with `BrokenPipe`. The stream
//! then stops writing — the run itself goes on, its verdict still decides
//! the exit code — and says nothing about it: a closed pipe is the reader's
//! choice, not an error. Any other write error is kept for the caller to
//! report.

use std::io::{self, Write};

use crate::trace::{Entry, Observer};

/// An output that takes trace entries (as an [`Observer`]) and other text,
/// and stops at the first failed write.
pub struct Stream<W: Write> {
    out: io::BufWriter<W>,
    failed: Option<io::Error>,
}

impl<W: Write> Stream<W> {
    /// A stream to `out`, buffered.
    pub fn new(out: W) -> Self {
        Self {
            out: io::BufWriter::new(out),
            failed: None,
        }
    }

    /// Writes `text` unless an earlier write failed.
    pub fn text(&mut self, text: &str) {
        if self.failed.is_none()
            && let Err(e) = self.out.write_all(text.as_bytes())
        {
            self.failed = Some(e);
        }
    }

    /// Flushes; the first write error, unless it was a closed pipe.
    pub fn finish(&mut self) -> io::Result<()> {
        if self.failed.is_none()
            && let Err(e) = self.out.flush()
        {
            self.failed = Some(e);
        }
        match self.failed.take() {
            Some(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e),
            _ => Ok(()),
        }
    }

    /// True once a write failed (the reader went away, or worse).
    pub fn closed(&self) -> bool {
        self.failed.is_some()
    }
}

impl<W: Write> Observer for Stream<W> {
    fn observe(&mut self, entry: &Entry) {
        if self.failed.is_none()
            && let Err(e) = writeln!(self.out, "{entry}")
        {
            self.failed = Some(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::trace::{Event, Replica};

    /// A writer that takes `room` bytes, then fails as a closed pipe does.
    struct Pipe {
        taken: Vec<u8>,
        room: usize,
    }

    impl Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.taken.len() + buf.len() > self.room {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            self.taken.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn entry(pass: u64) -> Entry {
        Entry {
            at: Duration::from_secs(pass * 60),
            event: Event::PassStart {
                r: Replica(0),
                n: pass,
            },
        }
    }

    #[test]
    fn lines_reach_the_output_in_order() {
        let mut s = Stream::new(Vec::new());
        s.text("header\n");
        s.observe(&entry(0));
        s.observe(&entry(1));
        assert!(s.finish().is_ok());
        let text = String::from_utf8(s.out.into_inner().expect("flushed")).expect("UTF-8");
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0], "header");
        assert_eq!(lines[1], entry(0).to_string());
        assert_eq!(lines[2], entry(1).to_string());
    }

    #[test]
    fn a_closed_pipe_stops_the_writing_quietly() {
        let mut s = Stream::new(Pipe {
            taken: Vec::new(),
            room: 100,
        });
        for pass in 0..10_000 {
            s.observe(&entry(pass));
        }
        s.text("--- verdict ---\n");
        assert!(s.closed(), "the pipe closed");
        assert!(s.finish().is_ok(), "a closed pipe is not an error");
    }

    #[test]
    fn another_write_error_is_reported() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Err(io::Error::other("disk full"))
            }
        }
        let mut s = Stream::new(Full);
        s.observe(&entry(0));
        let err = s.finish().expect_err("a full disk is reported");
        assert!(err.to_string().contains("disk full"), "{err}");
    }
}
