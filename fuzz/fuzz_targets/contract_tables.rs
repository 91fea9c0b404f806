//! Any bytes as any file of the evidence contract (the first byte picks the file): `report` reads
//! these files from bundles it is handed, so reading them must answer, rows or a reason, never
//! panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use soc2_evidence::contract;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let files = contract::files();
    let file = files[pick as usize % files.len()];
    if let Err(reason) = (file.read)(bytes) {
        assert!(!reason.is_empty(), "{}: an error without a reason", file.path);
    }
});
