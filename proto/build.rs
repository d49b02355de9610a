//! Compiles `clinic/**/*.proto` with protox (pure Rust, so no system `protoc` is needed) and writes
//! the file descriptor set that server reflection serves.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "clinic/common/v1/common.proto",
    "clinic/patients/v1/patients.proto",
    "clinic/scheduling/v1/scheduling.proto",
    "clinic/billing/v1/billing.proto",
    "clinic/collections/v1/collections.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }

    let descriptors = protox::compile(PROTOS, [&root])?;
    // `compile_fds` does not write the descriptor set itself; reflection needs it.
    std::fs::write(
        out_dir.join("clinic_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}
