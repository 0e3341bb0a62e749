//! Delta debugging (Zeller's `ddmin`, complement form): the smallest subset
//! of a list that still shows the failure, found by removing ever smaller
//! chunks. The result is 1-minimal: removing any single remaining element
//! makes the failure disappear.

/// The indices (ascending) of a 1-minimal subset of `0..n` for which `fails`
/// holds, given that it holds for all of `0..n`. With `may_be_empty`, the
/// empty subset is tried first.
pub fn ddmin(n: usize, may_be_empty: bool, mut fails: impl FnMut(&[usize]) -> bool) -> Vec<usize> {
    if may_be_empty && n > 0 && fails(&[]) {
        return Vec::new();
    }
    let mut kept: Vec<usize> = (0..n).collect();
    let mut chunks = 2usize;
    while kept.len() >= 2 {
        let size = kept.len().div_ceil(chunks);
        let mut reduced = false;
        for start in (0..kept.len()).step_by(size) {
            let end = (start + size).min(kept.len());
            let candidate: Vec<usize> = kept[..start].iter().chain(&kept[end..]).copied().collect();
            if fails(&candidate) {
                kept = candidate;
                chunks = chunks.saturating_sub(1).max(2);
                reduced = true;
                break;
            }
        }
        if !reduced {
            if chunks >= kept.len() {
                break;
            }
            chunks = (chunks * 2).min(kept.len());
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::ddmin;

    #[test]
    fn finds_the_two_elements_that_matter() {
        let kept = ddmin(40, true, |s| s.contains(&7) && s.contains(&31));
        assert_eq!(kept, vec![7, 31]);
    }

    #[test]
    fn empty_when_nothing_matters() {
        assert!(ddmin(10, true, |_| true).is_empty());
    }

    #[test]
    fn keeps_one_when_empty_is_not_allowed() {
        assert_eq!(ddmin(10, false, |s| !s.is_empty()).len(), 1);
    }
}
