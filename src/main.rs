use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;

fn main() -> ExitCode {
    let cli = match mlcompat::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            e.exit()
        }
        Err(e) => {
            // clap echoes the offending argument; it goes through the same escaping as everything else,
            // and a closed stderr is no panic.
            use std::io::Write as _;
            let rendered = e.render().to_string();
            // A value refused by its parser says all in its first line; clap's tips follow other errors.
            let shown = match e.kind() {
                ErrorKind::ValueValidation => {
                    rendered.lines().next().unwrap_or_default().to_string() + "\n"
                }
                _ => rendered,
            };
            let _ = write!(std::io::stderr(), "{}", mlcompat::terminal::escape(&shown));
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let code = mlcompat::app::main(cli);
    #[cfg(unix)]
    mlcompat::exec::interrupt::wait_if_interrupted();
    ExitCode::from(code)
}
