//! The layers of the crate point one way: every module under `src/` may name (in `use crate::`
//! lines and in `crate::` paths, tests included) only modules of a lower layer or its own
//! top-level module. The table below is the architecture of README "Architecture"; a module
//! missing from it fails the test too, so a new module is placed on purpose.

use std::collections::BTreeMap;
use std::path::Path;

/// Top-level module -> layer. A module may import only modules of a strictly lower layer
/// (and itself). Equal layers do not import each other.
const LAYERS: &[(&str, u32)] = &[
    // The shared vocabulary and the control catalogue: nothing below them.
    ("vocab", 0),
    ("controls", 0),
    ("error", 1),
    // The evidence contract: what collectors write and rules read.
    ("contract", 1),
    // The bundle on disk (files, manifest, zip, verify); pure judgement; retry policy; signals.
    ("bundle", 2),
    ("judge", 2),
    ("retry", 2),
    ("interrupt", 2),
    // The collectors' side: AWS clients and the evidence sink, then the collectors.
    ("aws", 3),
    ("timeout_budget", 2),
    ("evidence", 3),
    ("collectors", 4),
    // The analysis: rules, access review, index.html (never a collector).
    ("findings", 4),
    // Signing manifests: a local OpenSSH key or an AWS KMS key, in bundle::signature's format.
    ("sign", 4),
    // The application: the registry of collectors, then the commands.
    ("registry", 5),
    ("cli", 6),
    ("policy", 6),
    ("config", 7),
    ("config_file", 8),
    ("run", 8),
    ("report", 9),
    // Many accounts: the org run, its bundle and `merge`.
    ("org", 10),
    // Bundles over time: diff (and timeline).
    ("period", 10),
    ("output", 11),
];

/// Files that are not modules of a layer: the crate root and the binary.
const OUTSIDE: &[&str] = &["lib.rs", "main.rs"];

/// The top-level module a file of `src/` belongs to.
fn module_of(relative: &str) -> String {
    let first = relative.split('/').next().unwrap();
    first.trim_end_matches(".rs").to_string()
}

/// The top-level modules a source text names through `crate::`, with the line, outside
/// comments. `use crate::{a::X, b}` groups count each name.
fn imports(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let code = code.split("//").next().unwrap_or(code);
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().last();
            rest = &rest[at + "crate::".len()..];
            // `soc2_evidence_crate::` or similar identifiers are not the crate root.
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        found.push((number + 1, name));
                    }
                }
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push((number + 1, name));
            }
        }
    }
    found
}

/// Every upward or sideways import of the sources given as (path under src/, text).
fn violations(sources: &[(String, String)]) -> Vec<String> {
    let layers: BTreeMap<&str, u32> = LAYERS.iter().copied().collect();
    let mut problems = Vec::new();
    for (path, text) in sources {
        if OUTSIDE.contains(&path.as_str()) {
            continue;
        }
        let module = module_of(path);
        let Some(&own) = layers.get(module.as_str()) else {
            problems.push(format!(
                "src/{path}: module `{module}` has no layer in tests/layering.rs"
            ));
            continue;
        };
        for (line, target) in imports(text) {
            if target == module || target == "self" || target == "super" {
                continue;
            }
            match layers.get(target.as_str()) {
                Some(&layer) if layer < own => {}
                Some(&layer) => problems.push(format!(
                    "src/{path}:{line}: `{module}` (layer {own}) imports `{target}` (layer {layer}): \
                     a module may import only lower layers"
                )),
                None => problems.push(format!(
                    "src/{path}:{line}: `{target}` is not a module with a layer"
                )),
            }
        }
    }
    problems
}

fn sources(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).unwrap();
            let relative: Vec<_> = relative.iter().map(|p| p.to_string_lossy()).collect();
            out.push((relative.join("/"), std::fs::read_to_string(&path).unwrap()));
        }
    }
}

#[test]
fn no_module_imports_a_layer_above_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    sources(&root, &root, &mut all);
    assert!(all.len() > 20, "read the sources under {}", root.display());
    let problems = violations(&all);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn an_upward_import_is_caught() {
    let source = |path: &str, text: &str| vec![(path.to_string(), text.to_string())];
    // The bundle must not know the findings, nor the collectors the registry.
    let bad = violations(&source(
        "bundle/manifest.rs",
        "use crate::vocab::Severity;\nuse crate::findings::Analysis;\n",
    ));
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].starts_with("src/bundle/manifest.rs:2:"), "{bad:?}");
    assert_eq!(
        violations(&source(
            "collectors/x.rs",
            "use crate::{registry, vocab::Scope};"
        ))
        .len(),
        1
    );
    // Rules never call into collectors, even by a full path in a test.
    assert_eq!(
        violations(&source(
            "findings/rules/x.rs",
            "    let k = crate::collectors::x::kind();"
        ))
        .len(),
        1
    );
    // Sideways is not allowed either, and comments do not count.
    assert_eq!(
        violations(&source("findings/x.rs", "use crate::collectors::X;")).len(),
        1
    );
    assert!(violations(&source("findings/x.rs", "//! see crate::collectors::x")).is_empty());
    // Downward imports and the module's own paths are fine; an unknown module is not.
    assert!(violations(&source(
        "run.rs",
        "use crate::{bundle, findings::Analysis};\nuse crate::run::X;"
    ))
    .is_empty());
    assert_eq!(violations(&source("newthing.rs", "")).len(), 1);
}
