//! The `bouncex` binary: parse arguments, run the command, map the result to an exit
//! code (0 ok, 1 check failed, 2 usage or input error).

use clap::Parser;

// Records are built on parser threads and freed on the correlating thread; mimalloc
// handles such cross-thread frees without the contention of the system allocator.
// Its v2 line (Cargo.toml) keeps peak memory flatter on long logs than v3 does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = match bouncex::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                bouncex::app::EXIT_ERROR
            } else {
                0
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    match bouncex::app::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("bouncex: {e:#}");
            std::process::exit(bouncex::app::EXIT_ERROR);
        }
    }
}
