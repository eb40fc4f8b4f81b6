//! Medians over the rounds of a race.

/// The median of `values` (the mean of the two middle ones for an even count); `None` when
/// there is no finite value. Non-finite values are ignored.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return None;
    }
    finite.sort_by(f64::total_cmp);
    let middle = finite.len() / 2;
    if !finite.len().is_multiple_of(2) {
        finite.get(middle).copied()
    } else {
        let low = finite.get(middle - 1)?;
        let high = finite.get(middle)?;
        Some((low + high) / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_counts_take_the_middle_value_and_even_counts_the_mean_of_two() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[10.0, 1.0, 4.0, 2.0]), Some(3.0));
        assert_eq!(median(&[7.5]), Some(7.5));
        assert_eq!(median(&[5.0, 100.0, 6.0, 1.0, 5.5]), Some(5.5));
    }

    #[test]
    fn nothing_finite_has_no_median() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN]), None);
        assert_eq!(median(&[f64::NAN, 4.0, f64::INFINITY]), Some(4.0));
    }
}
