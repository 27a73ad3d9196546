//! Arrival times of the workload's clients (issue 13 §1): at a configured rate, clients that
//! all start together and wait a fixed gap send in synchronized bursts, and a fault injected on
//! a whole second always lands in the quiet gap between them. Each client instead waits an
//! exponentially distributed time (Poisson arrivals, so the clients together form a Poisson
//! process at the configured rate) and starts at a random offset.

use rand::rngs::StdRng;
use rand::Rng;
use std::time::Duration;

/// Longest gap drawn, in means: keeps one unlucky draw from idling a client for long.
const MAX_MEANS: f64 = 8.0;

/// Time from one arrival to the next for a client whose mean gap is `mean`: exponential with
/// that mean (capped at `MAX_MEANS`·mean).
pub fn poisson_gap(rng: &mut StdRng, mean: Duration) -> Duration {
    let u: f64 = rng.random();
    let x = -(1.0 - u).ln();
    mean.mul_f64(x.min(MAX_MEANS))
}

/// Delay before a client's first request: uniform in `[0, mean)`, so clients start out of step.
pub fn start_offset(rng: &mut StdRng, mean: Duration) -> Duration {
    mean.mul_f64(rng.random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn gaps_average_the_mean_and_are_spread_out() {
        let mut rng = StdRng::seed_from_u64(7);
        let mean = Duration::from_millis(100);
        let gaps: Vec<f64> = (0..20_000)
            .map(|_| poisson_gap(&mut rng, mean).as_secs_f64() * 1000.0)
            .collect();
        let avg = gaps.iter().sum::<f64>() / gaps.len() as f64;
        assert!((avg - 100.0).abs() < 5.0, "mean {avg} ms");
        let short = gaps.iter().filter(|&&g| g < 50.0).count() as f64 / gaps.len() as f64;
        // Exponential: P(gap < mean/2) = 1 - e^-0.5 ≈ 0.39 (a fixed gap would give 0).
        assert!((short - 0.393).abs() < 0.03, "{short}");
        assert!(gaps.iter().all(|&g| g <= 800.0 + 1e-9));
        let offsets: Vec<Duration> = (0..100).map(|_| start_offset(&mut rng, mean)).collect();
        assert!(offsets.iter().all(|o| *o < mean));
        assert!(offsets.iter().any(|o| *o < mean / 4) && offsets.iter().any(|o| *o > mean * 3 / 4));
    }
}
