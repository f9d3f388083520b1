//! The concurrent graph walk: each node starts as soon as everything it depends on has finished;
//! a failed node's dependents are skipped while independent work goes on; once cancelled, nothing
//! new starts and what is running finishes.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::task::JoinSet;

/// How one node of a walk ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed,
    /// Not run: something it depends on failed, or the walk was cancelled first.
    Skipped,
}

/// A directed acyclic graph for walking: `dependencies[i]` must finish before node `i` starts.
pub struct WalkPlan {
    pub dependencies: Vec<Vec<usize>>,
}

/// Walks `plan`, calling `visit(i)` for each node; returns each node's outcome.
pub async fn walk<F, Fut>(plan: &WalkPlan, cancelled: Arc<AtomicBool>, visit: F) -> Vec<Outcome>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    let count = plan.dependencies.len();
    let mut progress = Progress::new(plan);
    let mut running = JoinSet::new();
    loop {
        while let Some(node) = progress.ready.pop_front() {
            if cancelled.load(Ordering::SeqCst) {
                progress.finish(node, Outcome::Skipped);
                continue;
            }
            // A node that has nothing to wait for (a variable, a local, validation of a
            // resource) finishes on its first poll: run it here instead of as a task, which
            // saves two thread hand-offs per node (on a 10,000-long chain of references, most
            // of the walk's time). A node that would wait goes on as a task.
            tracing::trace!(node, "walk: node starts");
            let mut future = Box::pin(visit(node));
            let mut context = std::task::Context::from_waker(std::task::Waker::noop());
            match future.as_mut().poll(&mut context) {
                std::task::Poll::Ready(ok) => progress.finish(node, Outcome::of(ok)),
                std::task::Poll::Pending => {
                    running.spawn(async move { (node, future.await) });
                }
            }
        }
        if progress.finished == count {
            break;
        }
        match running.join_next().await {
            Some(Ok((node, ok))) => progress.finish(node, Outcome::of(ok)),
            Some(Err(join_error)) => {
                // A visit panicked: that is a bug, but the rest of the walk must still end cleanly
                // so state is saved. The node cannot be identified from a JoinError, so stop here.
                tracing::error!("a graph walk task failed: {join_error}");
                cancelled.store(true, Ordering::SeqCst);
            }
            None => break,
        }
    }
    progress
        .outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Skipped))
        .collect()
}

impl Outcome {
    fn of(ok: bool) -> Outcome {
        if ok {
            Outcome::Done
        } else {
            Outcome::Failed
        }
    }
}

/// Where a walk stands: what each node still waits for, how the finished ones ended, and which
/// may start.
struct Progress {
    dependents: Vec<Vec<usize>>,
    waiting: Vec<usize>,
    outcomes: Vec<Option<Outcome>>,
    ready: VecDeque<usize>,
    finished: usize,
}

impl Progress {
    fn new(plan: &WalkPlan) -> Progress {
        let count = plan.dependencies.len();
        let mut dependents = vec![Vec::new(); count];
        let mut waiting = vec![0usize; count];
        for (node, deps) in plan.dependencies.iter().enumerate() {
            for &dep in deps {
                if dep != node {
                    dependents[dep].push(node);
                    waiting[node] += 1;
                }
            }
        }
        Progress {
            ready: (0..count).filter(|&i| waiting[i] == 0).collect(),
            dependents,
            waiting,
            outcomes: vec![None; count],
            finished: 0,
        }
    }

    /// Records how `node` ended. Its dependents start once nothing else holds them back; when
    /// it did not succeed, they (and theirs) are skipped.
    fn finish(&mut self, node: usize, outcome: Outcome) {
        let ok = outcome == Outcome::Done;
        self.outcomes[node] = Some(outcome);
        self.finished += 1;
        let mut stack = vec![(node, ok)];
        while let Some((current, ok)) = stack.pop() {
            for &next in &self.dependents[current] {
                if self.outcomes[next].is_some() {
                    continue;
                }
                if !ok {
                    self.outcomes[next] = Some(Outcome::Skipped);
                    self.finished += 1;
                    stack.push((next, false));
                    continue;
                }
                self.waiting[next] -= 1;
                if self.waiting[next] == 0 {
                    self.ready.push_back(next);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test]
    async fn runs_in_dependency_order_and_skips_after_failure() {
        // 0 → 1 → 2, 3 independent; 1 fails.
        let plan = WalkPlan {
            dependencies: vec![vec![], vec![0], vec![1], vec![]],
        };
        let order = Arc::new(Mutex::new(Vec::new()));
        let outcomes = walk(&plan, Arc::new(AtomicBool::new(false)), |i| {
            let order = order.clone();
            async move {
                order.lock().unwrap().push(i);
                i != 1
            }
        })
        .await;
        assert_eq!(
            outcomes,
            vec![
                Outcome::Done,
                Outcome::Failed,
                Outcome::Skipped,
                Outcome::Done
            ]
        );
        let order = order.lock().unwrap().clone();
        assert!(order.iter().position(|&i| i == 0) < order.iter().position(|&i| i == 1));
        assert!(!order.contains(&2));
    }

    #[tokio::test]
    async fn cancelled_walk_starts_nothing() {
        let plan = WalkPlan {
            dependencies: vec![vec![], vec![0]],
        };
        let outcomes = walk(&plan, Arc::new(AtomicBool::new(true)), |_| async { true }).await;
        assert_eq!(outcomes, vec![Outcome::Skipped, Outcome::Skipped]);
    }
}
