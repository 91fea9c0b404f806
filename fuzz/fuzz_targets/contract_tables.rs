//! Any bytes as any file of the evidence contract or of an org bundle's `organization/` folder
//! (the first byte picks the file): `report` and `merge` read these files from bundles they are
//! handed, so reading them must answer, rows or a reason, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soc2_evidence::contract;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let mut files = contract::files();
    files.extend(contract::organization::FILES.iter());
    let file = files[pick as usize % files.len()];
    if let Err(reason) = (file.read)(bytes) {
        assert!(!reason.is_empty(), "{}: an error without a reason", file.path);
    }
});
