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
    let mut outcomes: Vec<Option<Outcome>> = vec![None; count];
    let mut ready: VecDeque<usize> = (0..count).filter(|&i| waiting[i] == 0).collect();
    let mut running = JoinSet::new();
    let mut finished = 0;
    loop {
        while let Some(node) = ready.pop_front() {
            if cancelled.load(Ordering::SeqCst) {
                outcomes[node] = Some(Outcome::Skipped);
                finished += 1;
                release(
                    node,
                    false,
                    &dependents,
                    &mut waiting,
                    &mut outcomes,
                    &mut ready,
                    &mut finished,
                );
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
                std::task::Poll::Ready(ok) => {
                    outcomes[node] = Some(if ok { Outcome::Done } else { Outcome::Failed });
                    finished += 1;
                    release(
                        node,
                        ok,
                        &dependents,
                        &mut waiting,
                        &mut outcomes,
                        &mut ready,
                        &mut finished,
                    );
                }
                std::task::Poll::Pending => {
                    running.spawn(async move { (node, future.await) });
                }
            }
        }
        if finished == count {
            break;
        }
        match running.join_next().await {
            Some(Ok((node, ok))) => {
                outcomes[node] = Some(if ok { Outcome::Done } else { Outcome::Failed });
                finished += 1;
                release(
                    node,
                    ok,
                    &dependents,
                    &mut waiting,
                    &mut outcomes,
                    &mut ready,
                    &mut finished,
                );
            }
            Some(Err(join_error)) => {
                // A visit panicked: that is a bug, but the rest of the walk must still end cleanly
                // so state is saved. The node cannot be identified from a JoinError, so stop here.
                tracing::error!("a graph walk task failed: {join_error}");
                cancelled.store(true, Ordering::SeqCst);
            }
            None => break,
        }
    }
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Skipped))
        .collect()
}

fn release(
    node: usize,
    ok: bool,
    dependents: &[Vec<usize>],
    waiting: &mut [usize],
    outcomes: &mut [Option<Outcome>],
    ready: &mut VecDeque<usize>,
    finished: &mut usize,
) {
    let mut stack = vec![(node, ok)];
    while let Some((current, ok)) = stack.pop() {
        for &next in &dependents[current] {
            if outcomes[next].is_some() {
                continue;
            }
            if !ok {
                outcomes[next] = Some(Outcome::Skipped);
                *finished += 1;
                stack.push((next, false));
                continue;
            }
            waiting[next] -= 1;
            if waiting[next] == 0 {
                ready.push_back(next);
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
