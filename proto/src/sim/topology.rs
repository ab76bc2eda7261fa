//! Who hears whom on the simulated medium: a directed reachability matrix (all pairs by
//! default, a mesh) and time-bounded partitions that heal on their own.

use crate::time::Millis;

/// A partition in force for `[from, until)`: nodes in different groups do not hear each other.
#[derive(Debug, Clone)]
struct Partition {
    /// Group number per node index; nodes beyond the end (added later) are in [`REST`].
    group: Vec<u32>,
    from: Millis,
    until: Millis,
}

/// The group of every node a partition does not name.
pub(crate) const REST: u32 = u32::MAX;

/// Reachability and partitions for `n` nodes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Topology {
    /// `reach[from][to]`: does `to` hear `from` (outside partitions)?
    reach: Vec<Vec<bool>>,
    partitions: Vec<Partition>,
}

impl Topology {
    /// Adds a node that hears everybody and is heard by everybody; returns its index.
    pub fn add_node(&mut self) -> usize {
        for row in &mut self.reach {
            row.push(true);
        }
        let n = self.reach.len() + 1;
        self.reach.push(vec![true; n]);
        n - 1
    }

    /// Sets whether `to` hears `from`. Indices must be in range (the caller checks).
    pub fn set(&mut self, from: usize, to: usize, reachable: bool) {
        if let Some(cell) = self.reach.get_mut(from).and_then(|row| row.get_mut(to)) {
            *cell = reachable;
        }
    }

    /// Makes every pair reachable again (partitions stay).
    pub fn set_all(&mut self, reachable: bool) {
        for row in &mut self.reach {
            row.fill(reachable);
        }
    }

    /// Adds a partition; `group[i]` is node `i`'s group ([`REST`] if unnamed).
    pub fn add_partition(&mut self, group: Vec<u32>, from: Millis, until: Millis) {
        self.partitions.push(Partition { group, from, until });
    }

    /// Does `to` hear a transmission from `from` that starts at `at`?
    pub fn hears(&self, from: usize, to: usize, at: Millis) -> bool {
        if from == to {
            return false;
        }
        let linked = self
            .reach
            .get(from)
            .and_then(|row| row.get(to))
            .copied()
            .unwrap_or(false);
        linked
            && !self.partitions.iter().any(|p| {
                let g = |i: usize| p.group.get(i).copied().unwrap_or(REST);
                p.from <= at && at < p.until && g(from) != g(to)
            })
    }

    /// Forgets partitions that have healed by `now`.
    pub fn prune(&mut self, now: Millis) {
        self.partitions.retain(|p| p.until > now);
    }

    /// Partitions not yet healed at the last prune.
    #[cfg(test)]
    pub fn partitions(&self) -> usize {
        self.partitions.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesh_by_default_and_directed_links() {
        let mut t = Topology::default();
        for _ in 0..3 {
            t.add_node();
        }
        assert!(t.hears(0, 2, 0) && t.hears(2, 0, 0));
        assert!(!t.hears(1, 1, 0));
        t.set(0, 2, false);
        assert!(!t.hears(0, 2, 0));
        assert!(t.hears(2, 0, 0));
        t.set_all(true);
        assert!(t.hears(0, 2, 0));
    }

    #[test]
    fn partitions_apply_in_their_interval_and_heal() {
        let mut t = Topology::default();
        for _ in 0..4 {
            t.add_node();
        }
        // {0,1} | {2} | rest = {3}
        t.add_partition(vec![0, 0, 1], 100, 200);
        assert!(t.hears(0, 2, 99));
        assert!(!t.hears(0, 2, 100));
        assert!(t.hears(0, 1, 150));
        assert!(!t.hears(2, 3, 150));
        assert!(!t.hears(0, 3, 199));
        assert!(t.hears(0, 3, 200));
        t.prune(199);
        assert_eq!(t.partitions(), 1);
        t.prune(200);
        assert_eq!(t.partitions(), 0);
    }
}
