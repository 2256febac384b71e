//! Realistic synthetic claims extracts for COPD care, deterministic for a
//! seed (shared by the `gen_claims` example and the `derive_bench` bench).
//!
//! Magnitudes follow DOMAIN.md and the seeds: GP consults about EUR 32,
//! outpatient visits about EUR 150, COPD admissions EUR 2,500-6,000 with
//! bed-days at EUR 525, home-care technology hours (code 1062) at EUR 74.60,
//! a telemonitoring kit lease of EUR 350 per patient per year, inhaler
//! prescriptions, some care outside the region (outside the fence), monthly
//! enrolment rows, and occasional reversals (negative amounts).

use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// (code, provider, min cents, max cents, max quantity, weight)
const CODES: &[(&str, &str, u64, u64, u32, u32)] = &[
    ("GP-CONSULT", "huisartsen", 3250, 3250, 1, 30),
    ("OUTPATIENT-PULM", "ziekenhuis", 15200, 15200, 1, 18),
    ("ADM-COPD", "ziekenhuis", 250_000, 600_000, 1, 4),
    ("BED-DAY", "ziekenhuis", 52_500, 52_500, 9, 6),
    ("ED-VISIT", "ziekenhuis", 26_800, 26_800, 1, 3),
    ("1062", "thuiszorg", 7460, 7460, 6, 20),
    ("MED-INHAL", "apotheek-centrum", 4800, 9500, 1, 12),
    ("ADM-COPD", "ziekenhuis-elders", 250_000, 600_000, 1, 1),
    ("PHYSIO", "fysio-berkel", 3900, 3900, 1, 5),
];

/// Writes `rows` data rows (plus a header) for `members` members in `year`.
pub fn generate(out: &mut impl Write, rows: u64, members: u32, year: u16, seed: u64) -> std::io::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    writeln!(out, "member,date,code,provider,amount,quantity")?;
    let total_weight: u32 = CODES.iter().map(|c| c.5).sum();
    let mut written = 0u64;
    // Enrolment: each member joins in some month and stays to December.
    let enrol_rows: u64 = (0..members).map(|m| 12 - (m % 12) as u64).sum();
    if enrol_rows * 2 <= rows {
        for m in 0..members {
            for month in (m % 12) + 1..=12 {
                writeln!(out, "p-{m:06},{year}-{month:02}-01,ENROL,verzekeraar,0.00,1")?;
                written += 1;
            }
        }
    }
    // The yearly telemonitoring lease for every member.
    if written + members as u64 * 2 <= rows {
        for m in 0..members {
            writeln!(out, "p-{m:06},{year}-{:02}-01,TM-LEASE,ziekenhuis,350.00,1", (m % 12) + 1)?;
            written += 1;
        }
    }
    while written < rows {
        let member = rng.gen_range(0..members);
        let month = rng.gen_range(1..=12u32);
        let day = rng.gen_range(1..=28u32);
        let mut pick = rng.gen_range(0..total_weight);
        let (code, provider, lo, hi, max_q, _) = *CODES
            .iter()
            .find(|c| {
                if pick < c.5 {
                    true
                } else {
                    pick -= c.5;
                    false
                }
            })
            .unwrap_or(&CODES[0]);
        let quantity = rng.gen_range(1..=max_q);
        let cents = rng.gen_range(lo..=hi) * quantity as u64;
        let sign = if code == "GP-CONSULT" && rng.gen_ratio(1, 200) { "-" } else { "" };
        writeln!(
            out,
            "p-{member:06},{year}-{month:02}-{day:02},{code},{provider},{sign}{}.{:02},{quantity}",
            cents / 100,
            cents % 100
        )?;
        written += 1;
    }
    Ok(())
}
