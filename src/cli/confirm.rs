//! Confirmation before a signature: the command shows what is about to be
//! signed, and a person at a terminal says yes (or a script passes `--yes`).

use std::io::{BufRead, IsTerminal, Read, Write};

use anyhow::{bail, Context, Result};

/// Most bytes of an answer read from the terminal.
const MAX_ANSWER_BYTES: u64 = 256;

/// Shows `summary` (on stdout, or on stderr under `--json` so stdout stays
/// JSON), then asks `question` on the terminal unless `yes`. Only `y` or
/// `yes` (any case) confirms. A standard input that is not a terminal
/// without `yes` is an error that names `--yes`: nobody saw the question.
pub fn confirm(summary: &str, question: &str, yes: bool, json: bool) -> Result<()> {
    debug_assert!(summary.is_empty() || summary.ends_with('\n'), "a summary ends its last line");
    if json {
        eprint!("{summary}");
    } else {
        out!("{summary}");
        std::io::stdout().flush().map_err(super::StdoutError)?;
    }
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "standard input is not a terminal, so nobody can confirm what is signed; nothing was signed. Check what is shown above and pass --yes to sign it without the question (for scripts)"
        );
    }
    let mut err = std::io::stderr().lock();
    write!(err, "{question} [y/N] ").and_then(|_| err.flush()).context("cannot ask on standard error")?;
    drop(err);
    let mut answer = String::new();
    stdin.lock().take(MAX_ANSWER_BYTES).read_line(&mut answer).context("cannot read the answer")?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => bail!("not confirmed (answer y to sign); nothing was signed"),
    }
}
