//! The `strata` binary: everything is in the library; see `strata::cli`.

/// mimalloc instead of the system allocator, as ruff and uv put jemalloc or mimalloc under
/// their binaries: a plan builds and drops a value per attribute of every instance, and with
/// glibc's allocator `malloc`/`free` were about a fifth of a 1,000-instance re-plan's CPU
/// (issue 16, BENCHMARKS.md "Found and fixed"). The library and its tests keep the default.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    strata::cli::main()
}
