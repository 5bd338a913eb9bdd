//! The access log: one `tracing` event per request on the target `stepgate::access` (at
//! info, so `RUST_LOG` turns it off), and [`AccessLogFormat`], a text formatter for that
//! target which writes exactly the line of `tracing-subscriber`'s default (`Full`) format —
//! `2026-11-21T17:44:01.123456Z  INFO stepgate::access: request requestId="…" ip="…" …` —
//! without going through `fmt` for every field: strings that need no escaping are copied
//! between quotes, numbers are written by hand, the timestamp is built digit by digit. The
//! line goes into the subscriber's reused per-thread buffer, written with one `write`.
//! Other targets, coloured output and events inside a span go to the wrapped formatter.
//!
//! With the plain text format (`serve` without `--json-logs`, stderr not a terminal) the
//! server skips tracing's dispatch altogether: [`log`] writes the same line into a reused
//! per-thread buffer and hands it to the thread's own stderr handle with one `write`, taking
//! no lock the other workers wait on ([`write_directly`]); `serve`'s worker threads batch
//! those writes and flush them whenever they are about to go idle ([`buffer_on_this_thread`]). The
//! `tracing::enabled!` check on `stepgate::access` still decides whether a line is written.

use std::cell::RefCell;
use std::fmt;
use std::io::Write as _;
use std::os::fd::AsFd as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::pipeline::GatewayResponse;

/// The access log's tracing target.
pub(crate) const TARGET: &str = "stepgate::access";

/// Whether the access log is on (`stepgate::access` at info). Once [`write_directly`] ran,
/// the answer it recorded (the process's filter is fixed by then); before, tracing's.
pub(crate) fn enabled() -> bool {
    match DIRECT.load(Ordering::Relaxed) {
        DIRECT_ON => true,
        DIRECT_OFF => false,
        _ => tracing::enabled!(target: "stepgate::access", tracing::Level::INFO),
    }
}

/// The response headers the line reads, parsed once.
const REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-amzn-requestid");
const ERROR_TYPE: http::HeaderName = http::HeaderName::from_static("x-amzn-errortype");

/// Whether [`log`] writes the text line to stderr itself instead of emitting an event
/// ([`DIRECT_ON`], [`DIRECT_OFF`] when the filter leaves the access log off), or not
/// ([`NOT_DIRECT`]).
static DIRECT: AtomicU8 = AtomicU8::new(NOT_DIRECT);
const NOT_DIRECT: u8 = 0;
const DIRECT_ON: u8 = 1;
const DIRECT_OFF: u8 = 2;

/// Makes [`log`] write plain-text lines straight to stderr (byte-identical to what
/// [`AccessLogFormat`] writes), bypassing tracing's dispatch. For a process whose subscriber
/// formats `stepgate::access` as uncoloured text on stderr, called once it is installed:
/// whether its filter lets the access log through is read now, once.
pub fn write_directly() {
    let on = tracing::enabled!(target: "stepgate::access", tracing::Level::INFO);
    DIRECT.store(if on { DIRECT_ON } else { DIRECT_OFF }, Ordering::Relaxed);
}

thread_local! {
    /// The reused buffer a line is built in before its one `write`.
    static LINE: RefCell<String> = const { RefCell::new(String::new()) };
    /// This thread's own handle on stderr (a duplicate of descriptor 2). `std::io::stderr()`
    /// serialises every thread's writes on one lock, which the workers then queue on; a
    /// line is one `write` either way, so lines still never interleave.
    static STDERR: Option<std::fs::File> =
        std::io::stderr().as_fd().try_clone_to_owned().ok().map(std::fs::File::from);
}

/// Lines written on this thread and not yet handed to stderr (see [`buffer_on_this_thread`]).
struct Pending {
    /// Whether this thread collects lines at all.
    on: bool,
    lines: Vec<u8>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.lines.is_empty() {
            write_line(&self.lines);
        }
    }
}

/// A thread collecting lines hands them over once they pass this size (and whenever it
/// is about to go idle).
const FLUSH_AT: usize = 16 * 1024;

thread_local! {
    static PENDING: RefCell<Pending> = const { RefCell::new(Pending { on: false, lines: Vec::new() }) };
}

/// Makes this thread collect its direct-written lines and write them in batches: when
/// [`FLUSH_AT`] bytes are waiting, at [`flush`], and when the thread ends. For the server's
/// worker threads, whose runtime calls [`flush`] each time a worker is about to park, so a
/// line waits only while its thread has other requests to run (as Envoy and nginx buffer
/// their access logs). Lines still waiting when the process is killed are lost.
pub fn buffer_on_this_thread() {
    let _ = PENDING.try_with(|p| p.borrow_mut().on = true);
}

/// Writes the lines this thread collected (see [`buffer_on_this_thread`]).
pub fn flush() {
    let _ = PENDING.try_with(|p| {
        if let Ok(mut p) = p.try_borrow_mut()
            && !p.lines.is_empty()
        {
            write_line(&p.lines);
            p.lines.clear();
        }
    });
}

/// Writes one whole line to stderr, or adds it to this thread's batch.
fn emit_line(line: &[u8]) {
    let queued = PENDING.try_with(|p| {
        let Ok(mut p) = p.try_borrow_mut() else { return false };
        if !p.on {
            return false;
        }
        p.lines.extend_from_slice(line);
        if p.lines.len() >= FLUSH_AT {
            write_line(&p.lines);
            p.lines.clear();
        }
        true
    });
    if !matches!(queued, Ok(true)) {
        write_line(line);
    }
}

/// Writes whole lines to stderr.
fn write_line(line: &[u8]) {
    // A failed write to stderr is dropped, as the default writer drops it.
    let written = STDERR.try_with(|file| file.as_ref().map(|mut f| f.write_all(line)));
    if !matches!(written, Ok(Some(_))) {
        let _ = std::io::stderr().write_all(line);
    }
}

/// One line per request, with API Gateway's access-log `$context` fields. The caller checks
/// [`enabled`] first.
pub(crate) fn log(
    method: &http::Method,
    path: &str,
    protocol: &str,
    ip: &str,
    response: &GatewayResponse,
    started: Instant,
) {
    // The two headers the line reads, in one pass over the few the response has.
    let (mut request_id, mut error_type) = (None, None);
    for (name, value) in &response.headers {
        if *name == REQUEST_ID {
            request_id = request_id.or(Some(value));
        } else if *name == ERROR_TYPE {
            error_type = error_type.or(Some(value));
        }
    }
    fn text(v: Option<&http::HeaderValue>) -> &str {
        v.and_then(|v| v.to_str().ok()).unwrap_or("-")
    }
    let (request_id, error_type) = (text(request_id), text(error_type));
    if DIRECT.load(Ordering::Relaxed) != NOT_DIRECT {
        let line = Line {
            request_id,
            ip,
            method: method.as_str(),
            path,
            protocol,
            status: response.status.as_u16(),
            error_type,
            length: response.body.len() as u64,
            latency: started.elapsed().as_millis() as u64,
        };
        let write = |buf: &mut String| {
            buf.clear();
            if line.write(buf, std::time::SystemTime::now()).is_ok() {
                emit_line(buf.as_bytes());
            }
        };
        // Re-entered only if writing panicked half-way; then a fresh buffer does.
        let _ = LINE.try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut buf) => write(&mut buf),
            Err(_) => write(&mut String::new()),
        });
        return;
    }
    tracing::info!(
        target: "stepgate::access",
        requestId = request_id,
        ip = ip,
        httpMethod = %method,
        path = path,
        protocol = protocol,
        status = response.status.as_u16(),
        errorType = error_type,
        responseLength = response.body.len(),
        responseLatency = started.elapsed().as_millis() as u64,
        "request"
    );
}

/// The fields of one access-log line, in the order the event records them.
struct Line<'a> {
    request_id: &'a str,
    ip: &'a str,
    method: &'a str,
    path: &'a str,
    protocol: &'a str,
    status: u16,
    error_type: &'a str,
    length: u64,
    latency: u64,
}

impl Line<'_> {
    /// Writes the whole line, newline included, as [`AccessLogFormat`] writes the event.
    fn write<W: fmt::Write>(&self, w: &mut W, now: std::time::SystemTime) -> fmt::Result {
        write_timestamp(w, now)?;
        w.write_str(level_str(tracing::Level::INFO))?;
        w.write_str("stepgate::access: request requestId=")?;
        write_quoted(w, self.request_id)?;
        w.write_str(" ip=")?;
        write_quoted(w, self.ip)?;
        w.write_str(" httpMethod=")?;
        w.write_str(self.method)?;
        w.write_str(" path=")?;
        write_quoted(w, self.path)?;
        w.write_str(" protocol=")?;
        write_quoted(w, self.protocol)?;
        w.write_str(" status=")?;
        write_u64(w, u64::from(self.status))?;
        w.write_str(" errorType=")?;
        write_quoted(w, self.error_type)?;
        w.write_str(" responseLength=")?;
        write_u64(w, self.length)?;
        w.write_str(" responseLatency=")?;
        write_u64(w, self.latency)?;
        w.write_char('\n')
    }
}

/// A string field as `str`'s `Debug` writes it.
fn write_quoted<W: fmt::Write>(w: &mut W, value: &str) -> fmt::Result {
    // `str`'s `Debug` leaves these strings as they are; anything else goes through it. The
    // check has no early exit, so it runs over whole words at a time.
    let plain = value.bytes().fold(true, |ok, b| ok & ((0x20..0x7f).contains(&b) & (b != b'"') & (b != b'\\')));
    if plain {
        w.write_char('"')?;
        w.write_str(value)?;
        w.write_char('"')
    } else {
        write!(w, "{value:?}")
    }
}

/// A number in decimal, without `fmt`'s machinery.
fn write_u64<W: fmt::Write>(w: &mut W, value: u64) -> fmt::Result {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = value;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    ascii(w, &buf[i..])
}

/// ASCII bytes (digits) as text, one character at a time: cheaper than validating a few
/// bytes as UTF-8 first.
fn ascii<W: fmt::Write>(w: &mut W, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| w.write_char(char::from(*b)))
}

/// A [`FormatEvent`] that writes `stepgate::access` lines itself and hands every other event
/// to `inner` (the default text format).
#[derive(Debug)]
pub struct AccessLogFormat<F> {
    inner: F,
}

impl<F> AccessLogFormat<F> {
    /// Wraps the formatter used for everything but plain-text access-log lines.
    pub fn new(inner: F) -> Self {
        AccessLogFormat { inner }
    }
}

impl<S, N, F> FormatEvent<S, N> for AccessLogFormat<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let meta = event.metadata();
        if meta.target() != TARGET || writer.has_ansi_escapes() || ctx.event_scope().is_some() {
            return self.inner.format_event(ctx, writer, event);
        }
        write_timestamp(&mut writer, std::time::SystemTime::now())?;
        writer.write_str(level_str(*meta.level()))?;
        writer.write_str("stepgate::access: ")?;
        let mut visitor = LineVisitor { writer: &mut writer, first: true, result: Ok(()) };
        event.record(&mut visitor);
        visitor.result?;
        writer.write_char('\n')
    }
}

/// The level as the default format pads it (width 5, right-aligned) plus the space after it.
fn level_str(level: tracing::Level) -> &'static str {
    match level {
        tracing::Level::TRACE => "TRACE ",
        tracing::Level::DEBUG => "DEBUG ",
        tracing::Level::INFO => " INFO ",
        tracing::Level::WARN => " WARN ",
        tracing::Level::ERROR => "ERROR ",
    }
}

thread_local! {
    /// The second the last timestamp on this thread fell in and its text up to the
    /// fraction (`2026-11-21T13:15:42.`): lines in the same second reuse it.
    static SECOND: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ ` (UTC, microseconds), as `tracing-subscriber`'s `SystemTime`.
fn write_timestamp<W: fmt::Write>(w: &mut W, now: std::time::SystemTime) -> fmt::Result {
    let Ok(since) = now.duration_since(std::time::UNIX_EPOCH) else { return write_timestamp_slow(w, now) };
    let Ok(second) = i64::try_from(since.as_secs()) else { return write_timestamp_slow(w, now) };
    let cached = SECOND.try_with(|cell| {
        let Ok(mut cell) = cell.try_borrow_mut() else { return Err(fmt::Error) };
        if cell.0 != second {
            let mut text = String::with_capacity(28);
            write_timestamp_slow(&mut text, std::time::UNIX_EPOCH + std::time::Duration::from_secs(since.as_secs()))?;
            // Keep `YYYY-MM-DDTHH:MM:SS.`; the fraction and `Z ` are written per line.
            if text.len() != 28 {
                return Err(fmt::Error);
            }
            text.truncate(20);
            *cell = (second, text);
        }
        w.write_str(&cell.1)
    });
    match cached {
        Ok(Ok(())) => {
            let mut micros = [0u8; 6];
            digits(&mut micros, since.subsec_micros());
            ascii(w, &micros)?;
            w.write_str("Z ")
        }
        _ => write_timestamp_slow(w, now),
    }
}

/// [`write_timestamp`] computed from scratch.
fn write_timestamp_slow<W: fmt::Write>(w: &mut W, now: std::time::SystemTime) -> fmt::Result {
    let t = time::OffsetDateTime::from(now);
    let year = t.year();
    if !(0..=9999).contains(&year) {
        // Outside four digits: the same text as the default's fallback path.
        return write!(
            w,
            "{}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z ",
            if year > 9999 { format!("+{year}") } else { format!("{year:05}") },
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.microsecond()
        );
    }
    let mut buf = *b"0000-00-00T00:00:00.000000Z ";
    digits(&mut buf[0..4], year as u32);
    digits(&mut buf[5..7], u32::from(u8::from(t.month())));
    digits(&mut buf[8..10], u32::from(t.day()));
    digits(&mut buf[11..13], u32::from(t.hour()));
    digits(&mut buf[14..16], u32::from(t.minute()));
    digits(&mut buf[17..19], u32::from(t.second()));
    digits(&mut buf[20..26], t.microsecond());
    // Only ASCII digits were written into an ASCII template.
    w.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
}

/// Writes `n` as zero-padded decimal filling `out` (high digits beyond its width dropped).
fn digits(out: &mut [u8], mut n: u32) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// Writes the event's fields as the default format does: the message bare, then
/// ` name=value` with values in `Debug` form.
struct LineVisitor<'a, 'w> {
    writer: &'a mut Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl LineVisitor<'_, '_> {
    /// The separator and `name=` (nothing for the message).
    fn start(&mut self, field: &Field) -> fmt::Result {
        if !self.first {
            self.writer.write_char(' ')?;
        }
        self.first = false;
        let name = field.name();
        if name == "message" {
            return Ok(());
        }
        self.writer.write_str(name.strip_prefix("r#").unwrap_or(name))?;
        self.writer.write_char('=')
    }

    fn record(&mut self, field: &Field, write: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        if self.result.is_ok() {
            self.result = self.start(field).and_then(|()| write(self.writer));
        }
    }
}

impl Visit for LineVisitor<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            return self.record_debug(field, &format_args!("{value}"));
        }
        self.record(field, |w| write_quoted(w, value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.record(field, |w| write_u64(w, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record(field, |w| write!(w, "{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_buffering_thread_writes_its_lines_in_batches() {
        std::thread::spawn(|| {
            super::emit_line(b"");
            assert!(super::PENDING.with(|p| p.borrow().lines.is_empty()), "off by default");
            super::buffer_on_this_thread();
            super::emit_line(b"one\n");
            super::emit_line(b"two\n");
            assert_eq!(super::PENDING.with(|p| p.borrow().lines.clone()), b"one\ntwo\n");
            super::flush();
            assert!(super::PENDING.with(|p| p.borrow().lines.is_empty()));
            let long = vec![b'x'; super::FLUSH_AT];
            super::emit_line(&long);
            assert!(super::PENDING.with(|p| p.borrow().lines.is_empty()), "a full batch is written at once");
        })
        .join()
        .unwrap();
    }

    use std::io;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// A `MakeWriter` collecting everything written into one buffer.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().map_err(|_| io::Error::other("poisoned"))?.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Sink {
        type Writer = Sink;
        fn make_writer(&'a self) -> Sink {
            self.clone()
        }
    }

    fn emit(path: &str, length: usize, fast: bool) -> String {
        let sink = Sink::default();
        let builder = tracing_subscriber::fmt().with_ansi(false).with_writer(sink.clone());
        let emit = || {
            tracing::info!(
                target: "stepgate::access",
                requestId = "c0ffee-1",
                ip = "127.0.0.1",
                httpMethod = %http::Method::GET,
                path = path,
                protocol = "HTTP/1.1",
                status = 200u16,
                errorType = "-",
                responseLength = length,
                responseLatency = 0u64,
                "request"
            );
        };
        if fast {
            let sub = builder.event_format(AccessLogFormat::new(tracing_subscriber::fmt::format::Format::default())).finish();
            tracing::subscriber::with_default(sub, emit);
        } else {
            tracing::subscriber::with_default(builder.finish(), emit);
        }
        let bytes = sink.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    }

    /// Drops the timestamp (different between the two runs) after checking its shape.
    fn without_time(line: &str) -> &str {
        let (time, rest) = line.split_once(' ').unwrap_or(("", line));
        assert_eq!(time.len(), 27, "timestamp `{time}`");
        assert!(time.ends_with('Z') && time.as_bytes()[10] == b'T' && time.as_bytes()[19] == b'.', "{time}");
        rest
    }

    #[test]
    fn the_line_is_the_default_formats_line() {
        let cases = [("/orders/42", 0), ("/a \"quoted\" \\ path", 7), ("/caf\u{e9}/\u{1b}[31m", 10), ("", usize::MAX)];
        for (path, length) in cases {
            let fast = emit(path, length, true);
            let default = emit(path, length, false);
            assert!(fast.ends_with('\n') && fast.matches('\n').count() == 1, "{fast:?}");
            assert_eq!(without_time(&fast), without_time(&default), "path {path:?}");
        }
    }

    #[test]
    fn the_line_has_every_field() {
        let line = emit("/orders/42", 1234, true);
        assert!(
            line.ends_with(
                " INFO stepgate::access: request requestId=\"c0ffee-1\" ip=\"127.0.0.1\" httpMethod=GET \
                 path=\"/orders/42\" protocol=\"HTTP/1.1\" status=200 errorType=\"-\" responseLength=1234 \
                 responseLatency=0\n"
            ),
            "{line:?}"
        );
    }

    #[test]
    fn the_direct_line_is_the_default_formats_line() {
        let cases = [("/orders/42", 0), ("/a \"quoted\" \\ path", 7), ("/caf\u{e9}/\u{1b}[31m", 10), ("", usize::MAX)];
        for (path, length) in cases {
            let line = Line {
                request_id: "c0ffee-1",
                ip: "127.0.0.1",
                method: http::Method::GET.as_str(),
                path,
                protocol: "HTTP/1.1",
                status: 200,
                error_type: "-",
                length: length as u64,
                latency: 0,
            };
            let mut direct = String::new();
            line.write(&mut direct, std::time::SystemTime::now()).ok();
            let default = emit(path, length, false);
            assert!(direct.ends_with('\n') && direct.matches('\n').count() == 1, "{direct:?}");
            assert_eq!(without_time(&direct), without_time(&default), "path {path:?}");
        }
    }

    #[test]
    fn the_timestamp_matches_the_default_timer() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::new(1_795_266_942, 123_456_789);
        let mut out = String::new();
        write_timestamp(&mut Writer::new(&mut out), at).ok();
        assert_eq!(out, "2026-11-21T13:15:42.123456Z ");
        // The same second again (from the per-thread cache), the next second, and the
        // computation from scratch, agree.
        for (offset, want) in [
            (std::time::Duration::from_micros(7), "2026-11-21T13:15:42.123463Z "),
            (std::time::Duration::from_millis(900), "2026-11-21T13:15:43.023456Z "),
        ] {
            let mut out = String::new();
            write_timestamp(&mut out, at + offset).ok();
            assert_eq!(out, want);
            let mut slow = String::new();
            write_timestamp_slow(&mut slow, at + offset).ok();
            assert_eq!(slow, want);
        }
        let mut before_epoch = String::new();
        write_timestamp(&mut before_epoch, std::time::UNIX_EPOCH - std::time::Duration::from_secs(1)).ok();
        assert_eq!(before_epoch, "1969-12-31T23:59:59.000000Z ");
    }
}
