//! Distributions, the standard normal CDF and its inverse, and the Cholesky
//! factor of a correlation matrix (a Gaussian copula).
//!
//! Every input is drawn from one standard normal `z` per run and year:
//! correlated inputs get their `z` from `L x` (independent normals `x`, `L`
//! the Cholesky factor of the correlation matrix), and the input's value is
//! its distribution's quantile at `u = Phi(z)`. Bounds truncate: the quantile
//! is taken within `[F(min), F(max)]`, so a bounded input keeps its shape and
//! its correlation rank. Floats are used only here and in statistics; a
//! drawn value is converted to an exact decimal before it reaches the
//! settlement engine.

/// A probability distribution of one input in one year.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    /// Normal with `mean` and standard deviation `sd` (>= 0), optionally
    /// truncated to `[min, max]`.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
        /// Lower bound.
        min: Option<f64>,
        /// Upper bound.
        max: Option<f64>,
    },
    /// Lognormal given by the `mean` (> 0) and standard deviation `sd` (> 0)
    /// of the value itself, optionally truncated to `[min, max]`.
    LogNormal {
        /// Mean of log(value).
        mu: f64,
        /// Standard deviation of log(value).
        sigma: f64,
        /// Lower bound.
        min: Option<f64>,
        /// Upper bound.
        max: Option<f64>,
    },
    /// Triangular on `[min, max]` with its peak at `mode`.
    Triangular {
        /// Lower end.
        min: f64,
        /// Most likely value.
        mode: f64,
        /// Upper end.
        max: f64,
    },
    /// Uniform on `[min, max]`.
    Uniform {
        /// Lower end.
        min: f64,
        /// Upper end.
        max: f64,
    },
}

impl Dist {
    /// A lognormal from the mean and standard deviation of the value.
    /// `mean > 0`, `sd > 0` (checked by the caller).
    pub fn lognormal(mean: f64, sd: f64, min: Option<f64>, max: Option<f64>) -> Dist {
        let s2 = (1.0 + (sd * sd) / (mean * mean)).ln();
        Dist::LogNormal { mu: mean.ln() - s2 / 2.0, sigma: s2.sqrt(), min, max }
    }

    /// The value at standard normal draw `z` (the quantile at `Phi(z)`).
    pub fn at_z(&self, z: f64) -> f64 {
        self.at_z_within(z, self.bounds_p())
    }

    /// [`Dist::at_z`] with the probabilities of the bounds given (as
    /// [`Dist::bounds_p`] computes them): the same float operations in the
    /// same order, so the same value to the bit.
    fn at_z_within(&self, z: f64, bounds: (f64, f64)) -> f64 {
        match self {
            Dist::Normal { mean, sd, min: None, max: None } => mean + sd * z,
            Dist::LogNormal { mu, sigma, min: None, max: None } => (mu + sigma * z).exp(),
            _ => self.quantile_within(norm_cdf(z), bounds),
        }
    }

    /// The quantile at probability `p` in `[0, 1]` (within the bounds).
    pub fn quantile(&self, p: f64) -> f64 {
        self.quantile_within(p, self.bounds_p())
    }

    /// The probabilities `(F(min), F(max))` of the bounds of a normal or
    /// lognormal (`0` and `1` where there is no bound); `(0, 1)` for the
    /// others, which do not use them.
    fn bounds_p(&self) -> (f64, f64) {
        match *self {
            Dist::Normal { mean, sd, min, max } => {
                if sd == 0.0 {
                    return (0.0, 1.0);
                }
                let lo = min.map(|m| norm_cdf((m - mean) / sd)).unwrap_or(0.0);
                let hi = max.map(|m| norm_cdf((m - mean) / sd)).unwrap_or(1.0);
                (lo, hi)
            }
            Dist::LogNormal { mu, sigma, min, max } => {
                let f = |x: f64| if x <= 0.0 { 0.0 } else { norm_cdf((x.ln() - mu) / sigma) };
                (min.map(f).unwrap_or(0.0), max.map(f).unwrap_or(1.0))
            }
            Dist::Triangular { .. } | Dist::Uniform { .. } => (0.0, 1.0),
        }
    }

    /// [`Dist::quantile`] given the probabilities of the bounds.
    fn quantile_within(&self, p: f64, (lo, hi): (f64, f64)) -> f64 {
        let p = p.clamp(0.0, 1.0);
        match *self {
            Dist::Normal { mean, sd, min, max } => {
                if sd == 0.0 {
                    return clamp_opt(mean, min, max);
                }
                clamp_opt(mean + sd * norm_quantile(lo + p * (hi - lo)), min, max)
            }
            Dist::LogNormal { mu, sigma, min, max } => {
                clamp_opt((mu + sigma * norm_quantile(lo + p * (hi - lo))).exp(), min, max)
            }
            Dist::Triangular { min, mode, max } => {
                let w = max - min;
                let fc = (mode - min) / w;
                if p < fc {
                    min + (p * w * (mode - min)).sqrt()
                } else {
                    max - ((1.0 - p) * w * (max - mode)).sqrt()
                }
            }
            Dist::Uniform { min, max } => min + p * (max - min),
        }
    }

    /// The central value used in sweeps and the tornado chart: the median.
    pub fn median(&self) -> f64 {
        self.quantile(0.5)
    }
}

/// A distribution ready to be drawn many times: the probabilities of its
/// bounds are computed once, not at every draw (a truncated normal costs two
/// evaluations of `Phi` fewer per draw). Draws are those of [`Dist::at_z`],
/// to the bit.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampler {
    dist: Dist,
    bounds: (f64, f64),
}

impl Sampler {
    /// The sampler of `dist`.
    pub fn new(dist: &Dist) -> Sampler {
        Sampler { dist: dist.clone(), bounds: dist.bounds_p() }
    }

    /// The value at standard normal draw `z`: [`Dist::at_z`].
    pub fn at_z(&self, z: f64) -> f64 {
        self.dist.at_z_within(z, self.bounds)
    }
}

fn clamp_opt(x: f64, min: Option<f64>, max: Option<f64>) -> f64 {
    let x = min.map_or(x, |m| x.max(m));
    max.map_or(x, |m| x.min(m))
}

/// The standard normal CDF, `Phi(z)`, via `erfc` (relative error below 1e-14).
pub fn norm_cdf(z: f64) -> f64 {
    0.5 * erfc(-z / std::f64::consts::SQRT_2)
}

/// Complementary error function (W. J. Cody's rational approximations, as
/// in many libms; absolute error below 1e-15 for all `x`).
#[allow(clippy::excessive_precision)] // the published coefficients, as printed
fn erfc(x: f64) -> f64 {
    let ax = x.abs();
    let r = if ax < 0.5 {
        // erf by its series-like rational form.
        let t = x * x;
        let top = (((0.185_777_706_184_603_15 * t + 3.161_123_743_870_565_6) * t + 113.864_154_151_050_16) * t
            + 377.485_237_685_302_0)
            * t
            + 3_209.377_589_138_469_5;
        let bot = (((t + 23.601_290_952_344_122) * t + 244.024_637_934_444_17) * t + 1_282.616_526_077_372_3) * t
            + 2_844.236_833_439_170_6;
        return 1.0 - x * top / bot;
    } else if ax < 4.0 {
        let p = [
            5.641_884_969_886_700_9e-1,
            8.883_149_794_388_375_9,
            66.119_190_637_141_634,
            298.635_138_197_400_13,
            881.952_221_241_769_09,
            1_712.047_612_634_070_7,
            2_051.078_377_826_071_6,
            1_230.339_354_797_997_2,
            2.153_115_354_744_038_3e-8,
        ];
        let q = [
            15.744_926_110_709_835,
            117.693_950_891_312_5,
            537.181_101_862_009_86,
            1_621.389_574_566_690_3,
            3_290.799_235_733_459_7,
            4_362.619_090_143_247_2,
            3_439.367_674_143_721_6,
            1_230.339_354_803_749_4,
        ];
        let mut top = p[8] * ax;
        let mut bot = ax;
        for i in 0..7 {
            top = (top + p[i]) * ax;
            bot = (bot + q[i]) * ax;
        }
        let v = (top + p[7]) / (bot + q[7]);
        v * (-ax * ax).exp()
    } else {
        let p = [
            3.053_266_349_612_323_4e-1,
            3.603_448_999_498_044_5e-1,
            1.257_817_261_112_292_5e-1,
            1.608_378_514_874_227_5e-2,
            6.587_491_615_298_378_5e-4,
            1.631_538_713_730_709_6e-2,
        ];
        let q = [
            2.568_520_192_289_822_4,
            1.872_952_849_923_460_5,
            5.279_051_029_514_284_1e-1,
            6.051_834_131_244_131_6e-2,
            2.335_204_976_268_691_9e-3,
        ];
        let z = 1.0 / (ax * ax);
        let mut top = p[5] * z;
        let mut bot = z;
        for i in 0..4 {
            top = (top + p[i]) * z;
            bot = (bot + q[i]) * z;
        }
        let v = z * (top + p[4]) / (bot + q[4]);
        let v = (1.0 / std::f64::consts::PI.sqrt() - v) / ax;
        v * (-ax * ax).exp()
    };
    if x < 0.0 {
        2.0 - r
    } else {
        r
    }
}

/// The standard normal quantile `Phi^-1(p)`: Acklam's rational
/// approximation refined by one Halley step (relative error ~1e-15).
/// `p` outside `(0, 1)` gives -/+ 8.5 (beyond any practical draw).
#[allow(clippy::excessive_precision)]
pub fn norm_quantile(p: f64) -> f64 {
    if p <= 0.0 || p.is_nan() {
        return -8.5;
    }
    if p >= 1.0 {
        return 8.5;
    }
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] =
        [7.784_695_709_041_462e-3, 3.224_671_290_700_398e-1, 2.445_134_137_142_996, 3.754_408_661_907_416];
    let low = 0.024_25;
    let x = if p < low {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - low {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // One Halley step on Phi(x) - p.
    let e = norm_cdf(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// The lower-triangular Cholesky factor of the symmetric matrix `m` (row
/// major, `n x n`), allowing positive semi-definite matrices (a zero pivot
/// gives a zero column). `None` when `m` is not positive semi-definite.
pub fn cholesky(m: &[f64], n: usize) -> Option<Vec<f64>> {
    const EPS: f64 = 1e-10;
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let mut d = m[j * n + j];
        for k in 0..j {
            d -= l[j * n + k] * l[j * n + k];
        }
        if d < -EPS {
            return None;
        }
        let d = if d < EPS { 0.0 } else { d.sqrt() };
        l[j * n + j] = d;
        for i in j + 1..n {
            let mut s = m[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if d == 0.0 {
                if s.abs() > 1e-8 {
                    return None;
                }
                l[i * n + j] = 0.0;
            } else {
                l[i * n + j] = s / d;
            }
        }
    }
    Some(l)
}

/// The `q`-quantile (0..=1) of sorted `xs` by linear interpolation between
/// order statistics (type 7, as in R and spreadsheets). `xs` non-empty.
pub fn percentile(xs: &[f64], q: f64) -> f64 {
    percentile_by(xs.len(), q, |i| xs[i])
}

/// The positions in a sorted list of `len` values that [`percentile`] reads
/// for `q` (the same position twice at the end); `None` when `len` is 0.
pub fn percentile_at(len: usize, q: f64) -> Option<(usize, usize)> {
    if len == 0 {
        return None;
    }
    let h = (len - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    Some((lo, (lo + 1).min(len - 1)))
}

/// [`percentile`] of a sorted list of `len` values read by `at`: only the
/// two positions of [`percentile_at`] are read, so they are all a caller
/// needs in order (the same float operations, so the same value to the bit).
pub fn percentile_by(len: usize, q: f64, at: impl Fn(usize) -> f64) -> f64 {
    let Some((lo, hi)) = percentile_at(len, q) else {
        return f64::NAN;
    };
    let h = (len - 1) as f64 * q.clamp(0.0, 1.0);
    at(lo) + (h - lo as f64) * (at(hi) - at(lo))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn normal_cdf_and_quantile_agree() {
        assert!((norm_cdf(0.0) - 0.5).abs() < 1e-15);
        assert!((norm_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-12);
        assert!((norm_cdf(-3.0) - 0.001_349_898_031_630_094_6).abs() < 1e-15);
        for p in [1e-9, 0.001, 0.025, 0.3, 0.5, 0.77, 0.975, 0.999_999] {
            assert!((norm_cdf(norm_quantile(p)) - p).abs() < 1e-13 * p.max(1e-3), "{p}");
        }
    }

    #[test]
    fn quantiles_of_each_distribution() {
        let n = Dist::Normal { mean: 10.0, sd: 2.0, min: None, max: None };
        assert!((n.quantile(0.975) - 13.919_927_969).abs() < 1e-6);
        let t = Dist::Triangular { min: 0.0, mode: 0.0, max: 1.0 };
        assert!((t.quantile(0.75) - 0.5).abs() < 1e-12);
        let u = Dist::Uniform { min: -1.0, max: 1.0 };
        assert_eq!(u.median(), 0.0);
        let l = Dist::lognormal(100.0, 20.0, None, None);
        assert!(l.median() < 100.0 && l.median() > 95.0);
        let b = Dist::Normal { mean: 0.0, sd: 1.0, min: Some(0.0), max: None };
        assert!((b.median() - 0.674_489_750_196).abs() < 1e-9, "half-normal median");
        assert!(b.at_z(-9.0) >= 0.0);
    }

    /// The draw as it was computed before [`Sampler`] kept the bounds'
    /// probabilities: both at every draw (frozen copy, the oracle).
    fn at_z_recomputing_bounds(d: &Dist, z: f64) -> f64 {
        let quantile = |p: f64| -> f64 {
            let p = p.clamp(0.0, 1.0);
            match *d {
                Dist::Normal { mean, sd, min, max } => {
                    if sd == 0.0 {
                        return clamp_opt(mean, min, max);
                    }
                    let lo = min.map(|m| norm_cdf((m - mean) / sd)).unwrap_or(0.0);
                    let hi = max.map(|m| norm_cdf((m - mean) / sd)).unwrap_or(1.0);
                    clamp_opt(mean + sd * norm_quantile(lo + p * (hi - lo)), min, max)
                }
                Dist::LogNormal { mu, sigma, min, max } => {
                    let f = |x: f64| if x <= 0.0 { 0.0 } else { norm_cdf((x.ln() - mu) / sigma) };
                    let lo = min.map(f).unwrap_or(0.0);
                    let hi = max.map(f).unwrap_or(1.0);
                    clamp_opt((mu + sigma * norm_quantile(lo + p * (hi - lo))).exp(), min, max)
                }
                Dist::Triangular { min, mode, max } => {
                    let w = max - min;
                    let fc = (mode - min) / w;
                    if p < fc {
                        min + (p * w * (mode - min)).sqrt()
                    } else {
                        max - ((1.0 - p) * w * (max - mode)).sqrt()
                    }
                }
                Dist::Uniform { min, max } => min + p * (max - min),
            }
        };
        match d {
            Dist::Normal { mean, sd, min: None, max: None } => mean + sd * z,
            Dist::LogNormal { mu, sigma, min: None, max: None } => (mu + sigma * z).exp(),
            _ => quantile(norm_cdf(z)),
        }
    }

    fn any_dist() -> impl Strategy<Value = Dist> {
        let bound = proptest::option::of(-1e6f64..1e6);
        prop_oneof![
            (-1e6f64..1e6, 0.0f64..1e4, bound.clone(), bound.clone()).prop_map(|(mean, sd, min, max)| Dist::Normal {
                mean,
                sd,
                min,
                max
            }),
            (1e-3f64..1e6, 1e-3f64..1e5, bound.clone(), bound)
                .prop_map(|(mean, sd, min, max)| Dist::lognormal(mean, sd, min, max)),
            (-1e3f64..0.0, 0.0f64..1.0, 1.0f64..1e3).prop_map(|(min, f, max)| Dist::Triangular {
                min,
                mode: min + f * (max - min),
                max
            }),
            (-1e3f64..0.0, 0.0f64..1e3).prop_map(|(min, max)| Dist::Uniform { min, max }),
        ]
    }

    proptest! {
        /// A sampler draws what the distribution drew before it kept the
        /// bounds' probabilities, to the bit (fixed-seed simulations keep
        /// their numbers).
        #[test]
        fn a_sampler_draws_the_same_bits(d in any_dist(), z in -9.0f64..9.0) {
            let s = Sampler::new(&d);
            prop_assert_eq!(s.at_z(z).to_bits(), at_z_recomputing_bounds(&d, z).to_bits());
            prop_assert_eq!(d.at_z(z).to_bits(), at_z_recomputing_bounds(&d, z).to_bits());
        }
    }

    #[test]
    fn cholesky_refuses_what_is_not_psd() {
        let ok = [1.0, 0.5, 0.5, 1.0];
        let l = cholesky(&ok, 2).unwrap();
        assert!((l[2] - 0.5).abs() < 1e-15);
        assert!(cholesky(&[1.0, 1.0, 1.0, 1.0], 2).is_some(), "singular but PSD");
        let bad = [1.0, 0.9, -0.9, 0.9, 1.0, 0.9, -0.9, 0.9, 1.0];
        assert!(cholesky(&bad, 3).is_none());
    }

    #[test]
    fn percentiles_interpolate() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&xs, 0.5), 3.0);
        assert_eq!(percentile(&xs, 0.05), 1.2);
        assert_eq!(percentile(&xs, 1.0), 5.0);
    }
}
