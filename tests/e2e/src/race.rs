//! Races: calls released at the same moment, for the tests that check that
//! exactly one of several simultaneous requests wins.

use std::sync::Barrier;

/// Runs `f(0)`, …, `f(n - 1)` at the same moment and returns their results
/// in that order: one scoped thread per call, each waiting on one
/// [`Barrier`] of `n` that lets them all go once the last one is up. `f`
/// chooses the call by its index (`|i| if i == 0 { pay(…) } else {
/// cancel(…) }` for a race of different requests). A panic in any call
/// panics here, after every thread has ended. `n` = 0 runs nothing.
pub fn at_once<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let barrier = Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (barrier, f) = (&barrier, &f);
                s.spawn(move || {
                    barrier.wait();
                    f(i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}
