//! Test binaries whose tests need something outside the workspace (a
//! third-party ActivityPub peer, a PostgreSQL server) run on this harness
//! (libtest-mimic) instead of the built-in one, so that a test that finds
//! its prerequisite missing is reported as *ignored*, with the reason, in
//! the summary line of a plain `cargo test` — not as a pass. Where the
//! prerequisite is required (`.ci/run` sets `ALLMENDE_REQUIRE_INTEROP=1`
//! and `ALLMENDE_REQUIRE_POSTGRES=1`), the test fails instead.

use std::future::Future;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

/// How a test that may lack a prerequisite ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ran {
    /// It ran (and its assertions held: a failed one panics).
    Yes,
    /// It could not run; the reason names what is missing.
    Skipped(String),
}

/// A test running `body` on a two-thread tokio runtime.
pub fn trial<F, Fut>(name: &str, body: F) -> Trial
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Ran>,
{
    Trial::ignorable_test(name, move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Failed::from(format!("tokio runtime: {e}")))?;
        match runtime.block_on(body()) {
            Ran::Yes => Ok(Completion::Completed),
            Ran::Skipped(reason) => Ok(Completion::ignored_with(format!("SKIPPED: {reason}"))),
        }
    })
}

/// Runs `trials` with the command line cargo passed, and exits.
pub fn run(trials: Vec<Trial>) -> ! {
    libtest_mimic::run(&Arguments::from_args(), trials).exit()
}

/// Like [`run`], one trial after the other: for tests that start processes
/// on ports they picked before binding (another test binding port 0 in
/// between could take one), and that load both cores anyway.
pub fn run_one_at_a_time(trials: Vec<Trial>) -> ! {
    let mut arguments = Arguments::from_args();
    arguments.test_threads = Some(1);
    libtest_mimic::run(&arguments, trials).exit()
}
