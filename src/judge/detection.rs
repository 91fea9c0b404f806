//! Detection logic: what an IAM Access Analyzer analyzer type looks at, and GuardDuty's
//! severity bands. The `access-analyzer` and `guardduty` collectors use it for their convenience
//! columns (`kind`, `severity_band`, the per-band counts); the rules judge from the raw type and
//! severity with it.

/// What an analyzer looks at, by its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalyzerKind {
    ExternalAccess,
    InternalAccess,
    UnusedAccess,
    Unknown,
}

impl AnalyzerKind {
    /// The `kind` cell of `analyzers.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            AnalyzerKind::ExternalAccess => "external-access",
            AnalyzerKind::InternalAccess => "internal-access",
            AnalyzerKind::UnusedAccess => "unused-access",
            AnalyzerKind::Unknown => "unknown",
        }
    }
}

/// What an analyzer type looks at: `ACCOUNT`/`ORGANIZATION` analyzers report external access,
/// `*_INTERNAL_ACCESS` internal access, `*_UNUSED_ACCESS` unused access.
pub fn analyzer_kind(analyzer_type: &str) -> AnalyzerKind {
    match analyzer_type {
        "ACCOUNT" | "ORGANIZATION" => AnalyzerKind::ExternalAccess,
        t if t.ends_with("_INTERNAL_ACCESS") => AnalyzerKind::InternalAccess,
        t if t.ends_with("_UNUSED_ACCESS") => AnalyzerKind::UnusedAccess,
        _ => AnalyzerKind::Unknown,
    }
}

/// The severity bands of GuardDuty, as the GuardDuty User Guide defines them ("Severity levels
/// of GuardDuty findings",
/// <https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html>):
/// Critical 9.0-10.0, High 7.0-8.9, Medium 4.0-6.9, Low 1.0-3.9. Values below 1.0 (0 is
/// reserved) count as Low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Band {
    Low,
    Medium,
    High,
    Critical,
}

impl Band {
    pub fn of(severity: f64) -> Band {
        if severity >= 9.0 {
            Band::Critical
        } else if severity >= 7.0 {
            Band::High
        } else if severity >= 4.0 {
            Band::Medium
        } else {
            Band::Low
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Band::Low => "low",
            Band::Medium => "medium",
            Band::High => "high",
            Band::Critical => "critical",
        }
    }
}

/// Unarchived findings per band.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BandCounts {
    pub low: u64,
    pub medium: u64,
    pub high: u64,
    pub critical: u64,
}

impl BandCounts {
    /// Adds up (severity, findings) pairs into bands.
    pub fn from_groups(groups: impl IntoIterator<Item = (f64, u64)>) -> Self {
        let mut counts = BandCounts::default();
        for (severity, findings) in groups {
            match Band::of(severity) {
                Band::Low => counts.low += findings,
                Band::Medium => counts.medium += findings,
                Band::High => counts.high += findings,
                Band::Critical => counts.critical += findings,
            }
        }
        counts
    }

    pub fn total(&self) -> u64 {
        self.low + self.medium + self.high + self.critical
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analyzer_types_map_to_what_they_analyze() {
        for (analyzer_type, kind) in [
            ("ACCOUNT", "external-access"),
            ("ORGANIZATION", "external-access"),
            ("ACCOUNT_INTERNAL_ACCESS", "internal-access"),
            ("ORGANIZATION_INTERNAL_ACCESS", "internal-access"),
            ("ACCOUNT_UNUSED_ACCESS", "unused-access"),
            ("ORGANIZATION_UNUSED_ACCESS", "unused-access"),
            ("SOMETHING_NEW", "unknown"),
        ] {
            assert_eq!(
                analyzer_kind(analyzer_type).as_str(),
                kind,
                "{analyzer_type}"
            );
        }
    }

    #[test]
    fn severities_fall_into_the_documented_bands() {
        for (severity, band) in [
            (0.0, Band::Low),
            (1.0, Band::Low),
            (3.9, Band::Low),
            (4.0, Band::Medium),
            (5.0, Band::Medium),
            (6.9, Band::Medium),
            (7.0, Band::High),
            (8.0, Band::High),
            (8.9, Band::High),
            (9.0, Band::Critical),
            (10.0, Band::Critical),
        ] {
            assert_eq!(Band::of(severity), band, "{severity}");
        }
    }

    #[test]
    fn severity_groups_add_up_into_bands() {
        let counts = BandCounts::from_groups([
            (2.0, 3),
            (3.5, 1),
            (5.0, 4),
            (6.9, 1),
            (7.0, 2),
            (8.0, 5),
            (9.0, 1),
        ]);
        assert_eq!(
            counts,
            BandCounts {
                low: 4,
                medium: 5,
                high: 7,
                critical: 1
            }
        );
        assert_eq!(counts.total(), 17);
        assert_eq!(BandCounts::from_groups([]).total(), 0);
    }
}
