//! The month-end forecast: what was spent so far plus a projection of the remaining days from
//! the recent daily costs. Robust by construction, because a bill has spikes (a batch job, a
//! runaway loop) that must not be carried into every remaining day:
//!
//! - **Weekly shape.** With two weeks of history or more, weekends and weekdays each get
//!   their level as the median of their days, and the series is adjusted by the difference
//!   to the overall median before the trend is fitted.
//! - **Trend.** A Theil–Sen slope through the adjusted series (the median of the slopes of
//!   every pair of days; one spiky day does not move it), checked against the last 14 days':
//!   the milder of the two when they agree in sign, none when they do not.
//! - **Level.** The median of the last 7 days once the trend is taken out: a bill that
//!   stepped up or down recently is projected at its new level, not at the month's median.
//! - **Band.** The spread of the residuals as a robust standard deviation (1.4826 × their
//!   median absolute deviation); over `k` remaining days the cumulative band is
//!   ±1.645·σ·√k (a 90 % interval for independent daily errors), plus k times half the gap
//!   between the last week's level and the whole history's (a step may not last).
//!
//! Today counts as spent so far; only what the projection expects beyond today's spend is
//! added for today. A projected day is never negative. docs/org-costs.md says the same.

/// The projection, in nano-dollars (cumulative per remaining day).
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    pub month_end: i64,
    pub low: i64,
    pub high: i64,
    pub method: String,
    /// For today and each later day of the month: (day, expected, low, high), cumulative.
    pub days: Vec<(i64, i64, i64, i64)>,
}

/// The month to date, and the recent past the projection learns from.
pub struct MonthToDate<'a> {
    /// Complete days before today, oldest first: `history[i]` is day `today - n + i`.
    pub history: &'a [i64],
    pub today: i64,
    /// Spent today so far (the day is not over).
    pub spent_today: i64,
    /// Spent from the first of the month up to yesterday.
    pub spent_before_today: i64,
    /// The month's last day.
    pub month_last: i64,
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// The Theil–Sen line through `ys` (x = index): (slope, intercept). Too short a series for a
/// slope to mean anything gets a level only.
fn theil_sen(ys: &[f64]) -> (f64, f64) {
    let n = ys.len();
    let slope = if n >= 4 {
        let mut slopes = Vec::with_capacity(n * (n - 1) / 2);
        for i in 0..n {
            for j in i + 1..n {
                slopes.push((ys[j] - ys[i]) / (j - i) as f64);
            }
        }
        median(&mut slopes)
    } else {
        0.0
    };
    let intercept = median(&mut (0..n).map(|i| ys[i] - slope * i as f64).collect::<Vec<_>>());
    (slope, intercept)
}

/// Enough of each kind of day for their medians to mean something.
const WEEKLY_MIN_DAYS: usize = 14;
/// The recent past whose level the projection starts from; twice it is the recent trend.
const RECENT_DAYS: usize = 7;

pub fn project(m: &MonthToDate<'_>) -> Projection {
    let n = m.history.len();
    let first_day = m.today - n as i64;
    let ys: Vec<f64> = m.history.iter().map(|&v| v as f64).collect();
    let weekend = |i: usize| super::days::is_weekend(first_day + i as i64);
    let weekly = n >= WEEKLY_MIN_DAYS
        && (0..n).filter(|&i| weekend(i)).count() >= 4
        && (0..n).filter(|&i| !weekend(i)).count() >= 8;
    // The weekly shape is read from what the trend leaves: a growing bill must not make
    // its later weekdays look like a weekday effect.
    let (slope0, intercept0) = theil_sen(&ys);
    let (off_weekend, off_weekday) = if weekly {
        let resid: Vec<f64> = (0..n)
            .map(|i| ys[i] - (intercept0 + slope0 * i as f64))
            .collect();
        let all = median(&mut resid.clone());
        let mut we: Vec<f64> = (0..n).filter(|&i| weekend(i)).map(|i| resid[i]).collect();
        let mut wd: Vec<f64> = (0..n).filter(|&i| !weekend(i)).map(|i| resid[i]).collect();
        (median(&mut we) - all, median(&mut wd) - all)
    } else {
        (0.0, 0.0)
    };
    let offset = |day: i64| {
        if super::days::is_weekend(day) {
            off_weekend
        } else {
            off_weekday
        }
    };
    let zs: Vec<f64> = (0..n)
        .map(|i| ys[i] - offset(first_day + i as i64))
        .collect();
    // The trend is the 28-day slope unless the last two weeks disagree: then the milder of
    // the two when they point the same way, none when they do not. A slope fitted across a
    // step (a new project's first week) would keep climbing for the rest of the month.
    let (slope_all, _) = theil_sen(&zs);
    let slope = if n >= 2 * RECENT_DAYS {
        let (slope_recent, _) = theil_sen(&zs[n - 2 * RECENT_DAYS..]);
        if slope_all.signum() == slope_recent.signum() {
            if slope_all.abs() <= slope_recent.abs() {
                slope_all
            } else {
                slope_recent
            }
        } else {
            0.0
        }
    } else {
        slope_all
    };
    // The level is the last week's: a bill that stepped up (or down) a week ago is at its new
    // level now, however long it stayed at the old one.
    let level = |from: usize| {
        median(
            &mut (from..n)
                .map(|i| zs[i] - slope * i as f64)
                .collect::<Vec<_>>(),
        )
    };
    let intercept = level(n.saturating_sub(RECENT_DAYS));
    // How far the whole history's level is from the last week's: half of it is carried into
    // the band for every remaining day, as the step may not last.
    let shift = (level(0) - intercept).abs() / 2.0;
    let mut residuals: Vec<f64> = (0..n)
        .map(|i| zs[i] - (intercept + slope * i as f64))
        .collect();
    let centre = median(&mut residuals.clone());
    let sigma = 1.4826
        * median(
            &mut residuals
                .iter_mut()
                .map(|r| (*r - centre).abs())
                .collect::<Vec<_>>(),
        );
    let predict = |day: i64| {
        let t = (day - first_day) as f64;
        (intercept + slope * t + offset(day)).max(0.0)
    };

    let spent_so_far = m.spent_before_today + m.spent_today;
    let mut expected = m.spent_before_today as f64 + predict(m.today).max(m.spent_today as f64);
    let mut days = Vec::new();
    for (k, day) in (m.today..=m.month_last).enumerate() {
        if day > m.today {
            expected += predict(day);
        }
        let band = 1.645 * sigma * ((k + 1) as f64).sqrt() + shift * (k + 1) as f64;
        let e = expected.round() as i64;
        let low = ((expected - band).round() as i64).max(spent_so_far);
        let high = (expected + band).round() as i64;
        days.push((day, e, low, high));
    }
    let (month_end, low, high) = days.last().map(|&(_, e, l, h)| (e, l, h)).unwrap_or((
        spent_so_far,
        spent_so_far,
        spent_so_far,
    ));
    let method = if weekly {
        format!("theil-sen trend with weekday/weekend levels over {n} days")
    } else {
        format!("theil-sen trend over {n} days")
    };
    Projection {
        month_end,
        low,
        high,
        method,
        days,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::days;

    const D: i64 = 1_000_000_000; // one dollar in nano-dollars

    /// Today is 2026-12-10 (a Thursday); the month has 31 days.
    fn month(history: &[i64], spent_today: i64, spent_before_today: i64) -> Projection {
        let today = days::parse("2026-12-10").unwrap_or(0);
        project(&MonthToDate {
            history,
            today,
            spent_today,
            spent_before_today,
            month_last: days::parse("2026-12-31").unwrap_or(0),
        })
    }

    #[test]
    fn a_flat_series_projects_its_level_with_no_band() {
        let p = month(&[10 * D; 28], 4 * D, 90 * D);
        // 90 before today, today's full 10, then 21 days of 10.
        assert_eq!(p.month_end, 310 * D);
        assert_eq!((p.low, p.high), (310 * D, 310 * D));
        assert_eq!(p.days.len(), 22);
        assert_eq!(p.days[0].1, 100 * D);
        assert!(p.method.contains("weekday/weekend"), "{}", p.method);
    }

    #[test]
    fn a_growing_series_keeps_growing() {
        // $1 more each day: the last complete day was $28, so today is $29, then 30, 31…
        let history: Vec<i64> = (1..=28).map(|v| v * D).collect();
        let p = month(&history, 0, 0);
        let expected: i64 = (29..=50).map(|v| v * D).sum();
        assert_eq!(p.month_end, expected);
    }

    #[test]
    fn weekends_are_projected_as_weekends() {
        let today = days::parse("2026-12-10").unwrap_or(0);
        let history: Vec<i64> = (0..28)
            .map(|i| {
                if days::is_weekend(today - 28 + i) {
                    2 * D
                } else {
                    10 * D
                }
            })
            .collect();
        let p = month(&history, 0, 0);
        let expected: i64 = (today..=today + 21)
            .map(|d| if days::is_weekend(d) { 2 * D } else { 10 * D })
            .sum();
        assert_eq!(p.month_end, expected);
        // A plain mean would put every remaining day at about $7.7.
        let mean = history.iter().sum::<i64>() / 28;
        assert_ne!(p.month_end, mean * 22);
    }

    #[test]
    fn one_spiky_day_does_not_move_the_projection() {
        let mut history = vec![10 * D; 28];
        history[20] = 500 * D;
        let p = month(&history, 0, 0);
        assert_eq!(p.month_end, 22 * 10 * D);
    }

    #[test]
    fn a_noisy_series_has_a_band_that_widens_and_never_goes_below_spent() {
        let history: Vec<i64> = (0..28).map(|i| (10 + (i * 7 % 5) - 2) * D).collect();
        let p = month(&history, 3 * D, 50 * D);
        assert!(p.low < p.month_end && p.month_end < p.high, "{p:?}");
        let widths: Vec<i64> = p.days.iter().map(|d| d.3 - d.2).collect();
        assert!(widths.windows(2).all(|w| w[0] <= w[1]), "{widths:?}");
        assert!(p.days.iter().all(|d| d.2 >= 53 * D));
    }

    #[test]
    fn today_already_above_its_projection_counts_as_spent() {
        let p = month(&[10 * D; 28], 40 * D, 90 * D);
        assert_eq!(p.days[0].1, 130 * D);
        assert_eq!(p.month_end, 130 * D + 21 * 10 * D);
    }

    #[test]
    fn a_step_up_is_projected_at_its_new_level_with_a_band_for_the_old_one() {
        // Twenty days of nothing, then a new project costing $100 a day for eight days.
        let mut history = vec![0; 20];
        history.extend([100 * D; 8]);
        let p = month(&history, 0, 800 * D);
        assert_eq!(p.month_end, 800 * D + 22 * 100 * D);
        // The band reaches down towards the old level and is not zero.
        assert!(p.low < 800 * D + 22 * 60 * D, "{p:?}");
        assert!(p.high > p.month_end, "{p:?}");
        assert!(p.low >= 800 * D);
    }

    #[test]
    fn a_step_down_is_projected_at_its_new_level() {
        let mut history = vec![50 * D; 18];
        history.extend([5 * D; 10]);
        let p = month(&history, 0, 0);
        assert_eq!(p.month_end, 22 * 5 * D);
    }

    #[test]
    fn a_step_half_way_does_not_become_a_climb() {
        // Fourteen days at $10, fourteen at $30: the 28-day slope is positive, the last two
        // weeks' is flat, and the projection stays at $30 a day.
        let mut history = vec![10 * D; 14];
        history.extend([30 * D; 14]);
        let p = month(&history, 0, 0);
        // Within $5 over 22 days (the step leaves a trace in the weekday/weekend levels);
        // the 28-day slope of about $0.8 a day would have added some $200.
        assert!((p.month_end - 22 * 30 * D).abs() <= 5 * D, "{p:?}");
    }

    #[test]
    fn no_history_projects_nothing_more() {
        let p = month(&[], 5 * D, 20 * D);
        assert_eq!((p.month_end, p.low, p.high), (25 * D, 25 * D, 25 * D));
    }
}
