//! How a module's async body runs: on a single-threaded runtime, inside the protocol crate's run.

use crate::aws::Io;
use ansible_module::{ArgsSource, Context, Failure, ModuleOptions, ModuleSpec, Outcome};
use std::future::Future;

/// Runs a module whose body is async: [`ansible_module::run`] on a single-threaded runtime,
/// with the real HTTP client and sleep.
pub fn run_async<T: ModuleOptions>(
    spec: &ModuleSpec,
    source: ArgsSource,
    body: impl AsyncFnOnce(&mut Context, T, &Io) -> Result<Outcome, Failure>,
) -> ! {
    ansible_module::run(spec, source, |ctx, options| {
        block_on(body(ctx, options, &Io::default()))
    })
}

/// Runs the module's async body on a single-threaded runtime.
pub fn block_on<T>(body: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(format!("Could not start the async runtime: {e}")))?;
    runtime.block_on(body)
}
