//! Output of the commands an operator pipes into other tools (`simulate ...
//! | head`, `tail | grep`): a reader that goes away ends the command quietly
//! with status 0, as other Unix tools do, instead of the panic `println!`
//! gives on a closed pipe.

use std::io::Write;

/// Write `text` and a newline to stdout, flushed.
pub fn line(text: impl std::fmt::Display) {
    let mut out = std::io::stdout().lock();
    finish(writeln!(out, "{text}").and_then(|()| out.flush()));
}

/// Write `bytes` as they are to stdout, flushed.
pub fn bytes(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    finish(out.write_all(bytes).and_then(|()| out.flush()));
}

fn finish(result: std::io::Result<()>) {
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            std::process::exit(1);
        }
    }
}
