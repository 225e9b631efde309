//! Latency samples and their percentiles.

use std::time::Duration;

/// Latencies of one kind of request, in milliseconds.
#[derive(Debug, Default, Clone)]
pub struct Samples(Vec<f64>);

impl Samples {
    /// Adds one latency.
    pub fn push(&mut self, d: Duration) {
        self.0.push(d.as_secs_f64() * 1000.0);
    }

    /// Appends every sample of `other`.
    pub fn extend(&mut self, other: &Samples) {
        self.0.extend_from_slice(&other.0);
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there is no sample.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `q`-th percentile (0–100, nearest rank) in ms; 0 when empty.
    pub fn pct(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        let rank = ((q / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
        v[rank.min(v.len()) - 1]
    }

    /// `p50 / p95 / p99 ms (n)`.
    pub fn summary(&self) -> String {
        format!("{:.1} / {:.1} / {:.1} ms  (n={})", self.pct(50.0), self.pct(95.0), self.pct(99.0), self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut s = Samples::default();
        for ms in 1..=100 {
            s.push(Duration::from_millis(ms));
        }
        assert_eq!(s.pct(50.0).round(), 50.0);
        assert_eq!(s.pct(95.0).round(), 95.0);
        assert_eq!(s.pct(99.0).round(), 99.0);
        assert_eq!(Samples::default().pct(50.0), 0.0);
    }
}
