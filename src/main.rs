//! The `strata` binary: everything is in the library; see `strata::cli`.

fn main() -> std::process::ExitCode {
    strata::cli::main()
}
