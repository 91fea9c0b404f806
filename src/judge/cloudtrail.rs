//! What a trail's event selectors record (pure), whatever their form: basic (EventSelectors)
//! or advanced (AdvancedEventSelectors) selectors read into the same management/data coverage.
//! The `cloudtrail` collector writes it as the convenience columns of `trails.csv` and the
//! `Coverage` of `trails.json`; the CloudTrail rules read it again from the raw selectors that
//! `trails.json` keeps.

use std::collections::BTreeSet;

use crate::contract::cloudtrail::{
    AdvancedSelector, BasicSelector, Coverage, EventSelectors, FieldSelector, ManagementEvents,
    SelectorKind,
};

/// Reads a GetEventSelectors response. AWS returns one form or the other; should both come
/// back, the basic form is read, as AWS replaces the advanced form when basic selectors are put.
pub fn coverage(selectors: &EventSelectors) -> Coverage {
    let basic = selectors.event_selectors.as_deref().unwrap_or_default();
    let advanced = selectors
        .advanced_event_selectors
        .as_deref()
        .unwrap_or_default();
    if !basic.is_empty() {
        basic_coverage(basic)
    } else if !advanced.is_empty() {
        advanced_coverage(advanced)
    } else {
        Coverage::default()
    }
}

/// Basic selectors. An absent IncludeManagementEvents means true and an absent ReadWriteType
/// means All: the defaults the CloudTrail API documents for EventSelector.
pub fn basic_coverage(selectors: &[BasicSelector]) -> Coverage {
    let mut tally = Tally::default();
    for selector in selectors {
        let read_write = selector.read_write_type.as_deref().unwrap_or("All");
        if selector.include_management_events.unwrap_or(true) {
            tally.read |= matches!(read_write, "All" | "ReadOnly");
            tally.write |= matches!(read_write, "All" | "WriteOnly");
            tally.excluded.extend(
                selector
                    .exclude_management_event_sources
                    .iter()
                    .flatten()
                    .cloned(),
            );
        }
        for resource in selector.data_resources.iter().flatten() {
            tally.data = true;
            if let Some(kind) = &resource.r#type {
                tally.data_types.insert(kind.clone());
            }
        }
    }
    tally.coverage(SelectorKind::Basic)
}

/// What the selectors of one trail add up to, as they are read.
#[derive(Default)]
struct Tally {
    read: bool,
    write: bool,
    excluded: BTreeSet<String>,
    data: bool,
    data_types: BTreeSet<String>,
}

impl Tally {
    fn coverage(self, selector_kind: SelectorKind) -> Coverage {
        Coverage {
            selector_kind,
            management_events: ManagementEvents::from_flags(self.read, self.write),
            management_read_events: self.read,
            management_write_events: self.write,
            management_excluded_sources: self.excluded.into_iter().collect(),
            data_events: self.data,
            data_resource_types: self.data_types.into_iter().collect(),
        }
    }
}

fn fields<'a>(
    selector: &'a AdvancedSelector,
    name: &'a str,
) -> impl Iterator<Item = &'a FieldSelector> + 'a {
    selector
        .field_selectors
        .iter()
        .filter(move |f| f.field.eq_ignore_ascii_case(name))
}

fn contains(values: &Option<Vec<String>>, wanted: &str) -> bool {
    values
        .iter()
        .flatten()
        .any(|v| v.eq_ignore_ascii_case(wanted))
}

/// Advanced selectors: a selector with `eventCategory` Equals `Management` records management
/// events, read-only ones unless `readOnly` excludes them (Equals `false`) and write ones unless
/// it excludes those (Equals `true`); without a `readOnly` field it records both. A selector
/// with `eventCategory` Equals `Data` records data events of its `resources.type`.
pub fn advanced_coverage(selectors: &[AdvancedSelector]) -> Coverage {
    let mut tally = Tally::default();
    for selector in selectors {
        let categories: Vec<&FieldSelector> = fields(selector, "eventCategory").collect();
        if categories.iter().any(|f| contains(&f.equals, "Management")) {
            let (mut r, mut w) = (true, true);
            for read_only in fields(selector, "readOnly") {
                if read_only.equals.is_some() {
                    r &= contains(&read_only.equals, "true");
                    w &= contains(&read_only.equals, "false");
                }
                r &= !contains(&read_only.not_equals, "true");
                w &= !contains(&read_only.not_equals, "false");
            }
            tally.read |= r;
            tally.write |= w;
            for source in fields(selector, "eventSource") {
                tally
                    .excluded
                    .extend(source.not_equals.iter().flatten().cloned());
            }
        }
        if categories.iter().any(|f| contains(&f.equals, "Data")) {
            tally.data = true;
            for kind in fields(selector, "resources.type") {
                tally
                    .data_types
                    .extend(kind.equals.iter().flatten().cloned());
            }
        }
    }
    tally.coverage(SelectorKind::Advanced)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::cloudtrail::DataResource;

    fn basic(read_write: Option<&str>, management: Option<bool>) -> BasicSelector {
        BasicSelector {
            read_write_type: read_write.map(str::to_string),
            include_management_events: management,
            data_resources: Some(vec![]),
            exclude_management_event_sources: None,
        }
    }

    fn field(name: &str, equals: &[&str]) -> FieldSelector {
        FieldSelector {
            field: name.to_string(),
            equals: Some(equals.iter().map(|v| v.to_string()).collect()),
            ..FieldSelector::default()
        }
    }

    fn advanced(fields: Vec<FieldSelector>) -> AdvancedSelector {
        AdvancedSelector {
            name: Some("selector".into()),
            field_selectors: fields,
        }
    }

    fn management(c: &Coverage) -> (ManagementEvents, bool, bool) {
        (
            c.management_events,
            c.management_read_events,
            c.management_write_events,
        )
    }

    #[test]
    fn basic_all_readonly_writeonly_and_management_off() {
        let all = basic_coverage(&[basic(Some("All"), Some(true))]);
        assert_eq!(management(&all), (ManagementEvents::All, true, true));
        assert_eq!(all.selector_kind, SelectorKind::Basic);
        assert!(!all.data_events);
        assert_eq!(
            management(&basic_coverage(&[basic(Some("ReadOnly"), Some(true))])),
            (ManagementEvents::Read, true, false)
        );
        assert_eq!(
            management(&basic_coverage(&[basic(Some("WriteOnly"), Some(true))])),
            (ManagementEvents::Write, false, true)
        );
        assert_eq!(
            management(&basic_coverage(&[basic(Some("All"), Some(false))])),
            (ManagementEvents::None, false, false)
        );
        // The API's documented defaults: ReadWriteType All, IncludeManagementEvents true.
        assert_eq!(
            management(&basic_coverage(&[basic(None, None)])),
            (ManagementEvents::All, true, true)
        );
        // Selectors are a union.
        assert_eq!(
            management(&basic_coverage(&[
                basic(Some("ReadOnly"), Some(true)),
                basic(Some("WriteOnly"), Some(true)),
            ])),
            (ManagementEvents::All, true, true)
        );
    }

    #[test]
    fn basic_data_resources_and_excluded_sources() {
        let mut selector = basic(Some("All"), Some(true));
        selector.data_resources = Some(vec![
            DataResource {
                r#type: Some("AWS::S3::Object".into()),
                values: Some(vec!["arn:aws:s3".into()]),
            },
            DataResource {
                r#type: Some("AWS::Lambda::Function".into()),
                values: Some(vec!["arn:aws:lambda".into()]),
            },
        ]);
        selector.exclude_management_event_sources = Some(vec!["kms.amazonaws.com".into()]);
        let c = basic_coverage(&[selector]);
        assert!(c.data_events);
        assert_eq!(
            c.data_resource_types,
            ["AWS::Lambda::Function", "AWS::S3::Object"]
        );
        assert_eq!(c.management_excluded_sources, ["kms.amazonaws.com"]);

        // Data events only: management off, data on.
        let mut data_only = basic(Some("All"), Some(false));
        data_only.data_resources = Some(vec![DataResource {
            r#type: Some("AWS::S3::Object".into()),
            values: Some(vec!["arn:aws:s3".into()]),
        }]);
        data_only.exclude_management_event_sources = Some(vec!["ignored".into()]);
        let c = basic_coverage(&[data_only]);
        assert_eq!(c.management_events, ManagementEvents::None);
        assert!(c.data_events);
        assert!(c.management_excluded_sources.is_empty());
    }

    #[test]
    fn advanced_management_with_read_only_true_false_and_absent() {
        let absent = advanced_coverage(&[advanced(vec![field("eventCategory", &["Management"])])]);
        assert_eq!(management(&absent), (ManagementEvents::All, true, true));
        assert_eq!(absent.selector_kind, SelectorKind::Advanced);
        let read_only = advanced_coverage(&[advanced(vec![
            field("eventCategory", &["Management"]),
            field("readOnly", &["true"]),
        ])]);
        assert_eq!(
            management(&read_only),
            (ManagementEvents::Read, true, false)
        );
        let write_only = advanced_coverage(&[advanced(vec![
            field("eventCategory", &["Management"]),
            field("readOnly", &["false"]),
        ])]);
        assert_eq!(
            management(&write_only),
            (ManagementEvents::Write, false, true)
        );
        // Two selectors, read-only and write-only: together all management events.
        let both = advanced_coverage(&[
            advanced(vec![
                field("eventCategory", &["Management"]),
                field("readOnly", &["true"]),
            ]),
            advanced(vec![
                field("eventCategory", &["Management"]),
                field("readOnly", &["false"]),
            ]),
        ]);
        assert_eq!(management(&both), (ManagementEvents::All, true, true));
        // NotEquals true on readOnly leaves the write events.
        let not_read = advanced_coverage(&[advanced(vec![
            field("eventCategory", &["Management"]),
            FieldSelector {
                field: "readOnly".into(),
                not_equals: Some(vec!["true".into()]),
                ..FieldSelector::default()
            },
        ])]);
        assert_eq!(
            management(&not_read),
            (ManagementEvents::Write, false, true)
        );
    }

    #[test]
    fn advanced_data_only_records_no_management_events() {
        let c = advanced_coverage(&[advanced(vec![
            field("eventCategory", &["Data"]),
            field("resources.type", &["AWS::S3::Object"]),
        ])]);
        assert_eq!(c.management_events, ManagementEvents::None);
        assert!(c.data_events);
        assert_eq!(c.data_resource_types, ["AWS::S3::Object"]);

        let c = advanced_coverage(&[advanced(vec![
            field("eventCategory", &["Management"]),
            FieldSelector {
                field: "eventSource".into(),
                not_equals: Some(vec![
                    "rdsdata.amazonaws.com".into(),
                    "kms.amazonaws.com".into(),
                ]),
                ..FieldSelector::default()
            },
        ])]);
        assert_eq!(c.management_events, ManagementEvents::All);
        assert!(!c.data_events);
        assert_eq!(
            c.management_excluded_sources,
            ["kms.amazonaws.com", "rdsdata.amazonaws.com"]
        );
    }

    #[test]
    fn no_selectors_record_nothing_and_basic_wins_over_advanced() {
        let none = coverage(&EventSelectors::default());
        assert_eq!(none.selector_kind, SelectorKind::None);
        assert_eq!(none.management_events, ManagementEvents::None);
        let empty_lists = coverage(&EventSelectors {
            trail_arn: None,
            event_selectors: Some(vec![]),
            advanced_event_selectors: Some(vec![]),
        });
        assert_eq!(empty_lists.selector_kind, SelectorKind::None);
        let advanced_only = coverage(&EventSelectors {
            trail_arn: None,
            event_selectors: Some(vec![]),
            advanced_event_selectors: Some(vec![advanced(vec![field(
                "eventCategory",
                &["Management"],
            )])]),
        });
        assert_eq!(advanced_only.selector_kind, SelectorKind::Advanced);
        let both = coverage(&EventSelectors {
            trail_arn: None,
            event_selectors: Some(vec![basic(Some("ReadOnly"), Some(true))]),
            advanced_event_selectors: Some(vec![advanced(vec![field(
                "eventCategory",
                &["Management"],
            )])]),
        });
        assert_eq!(both.selector_kind, SelectorKind::Basic);
        assert_eq!(both.management_events, ManagementEvents::Read);
    }
}
