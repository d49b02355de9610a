//! The clinic's egui client — lobby check-in kiosk, reception counter, waiting-room display and
//! collections desk — is not built yet. Until it is, this binary says so and exits with an
//! error, so nothing mistakes it for a working client.

fn main() -> std::process::ExitCode {
    eprintln!(
        "clinic-kiosk: the kiosk, counter, display and collections modes are not available in this \
         version. Use the gRPC services started by `clinic up` (see README.md)."
    );
    std::process::ExitCode::FAILURE
}
